"""gunicorn settings for every way the web runs (Procfile, Dockerfile, docker-compose).

Knobs (environment): HOST, PORT, WEB_CONCURRENCY (workers), WEB_THREADS (threads per worker;
more than 1 = the gthread worker), WEB_WORKER_CLASS, WEB_TIMEOUT, WEB_GRACEFUL_TIMEOUT,
WEB_KEEPALIVE, WEB_ACCESS_LOG ("-" = stdout, empty = off), FORWARDED_ALLOW_IPS, GUNICORN_PIDFILE,
PROMETHEUS_MULTIPROC_DIR. Command-line flags and GUNICORN_CMD_ARGS still win over this file.

Zero-downtime reload: HUP to the master in var/gunicorn-<port>.pid (`make reload`). The master
keeps the listening socket and starts new workers with fresh code; the old workers keep serving
until the new ones have loaded the app (a boot takes seconds), then finish their requests and
exit, so no connection is refused and none waits for a boot. To replace the master itself (a
gunicorn upgrade): USR2, then TERM to the old master once the new one answers (see README).

Stop then start at once (a supervisor's or compose's restart): the new master waits for the
exiting one to release the port, then takes over its pidfile (gunicorn alone would quit with
"Already running on PID").

Metrics: prometheus_client's multiprocess mode (see backend/common/prometheus.py). The directory
is set here, before any worker imports prometheus_client, and cleared once when the master starts:
every worker's /metrics then shows the sum over all workers of this server.
"""

import argparse
import contextlib
import gc
import os
import re
import shlex
import signal
import socket
import sys
import time
from pathlib import Path

# The master imports nothing of the project (the `backend` package would load Celery): a module
# the master holds is never reloaded by HUP, and the workers inherit it.
ROOT = Path(__file__).resolve().parent
VAR_DIR = ROOT / "var"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _bind_argument() -> str | None:
    """`--bind` from the command line or GUNICORN_CMD_ARGS, which win over this file."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-b", "--bind", action="append")
    args = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")) + sys.argv[1:]
    binds = parser.parse_known_args(args)[0].bind
    return binds[0] if binds else None


def _bound_port() -> str:
    """The port this master listens on. The pidfile and metrics directory are named after it, so
    that two gunicorns of one checkout (a benchmark beside `make run`) never share them."""
    bind_argument = _bind_argument()
    if not bind_argument:
        return _env("PORT", "8000")
    return re.sub(r"[^A-Za-z0-9]+", "_", bind_argument.rsplit(":", 1)[-1]).strip("_")


def _address_is_free(address: str) -> bool:
    """True if nothing listens on host:port any more (a unix socket: always True)."""
    if address.startswith(("unix:", "fd://")) or ":" not in address:
        return True
    host, port = address.rsplit(":", 1)
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - a probe of gunicorn's own address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, int(port)))
        except OSError:
            return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_pidfile_of_exiting_master(path: Path, address: str, wait_seconds: float) -> None:
    """A master started while the previous one is still exiting (stop then start at once) waits
    until the old one has let go of the address (its workers finish their requests first), then
    removes its pidfile: gunicorn would otherwise quit with "Already running on PID". A master
    that still listens after `wait_seconds` is left alone (gunicorn then refuses to start)."""
    try:
        pid = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return
    if pid in (0, os.getpid()) or not _pid_alive(pid):
        return  # no pidfile, a HUP re-reading this file, or a dead pid (gunicorn handles that)
    deadline = time.monotonic() + wait_seconds
    while not _address_is_free(address):
        if time.monotonic() > deadline or not _pid_alive(pid):
            return
        time.sleep(0.1)
    if _pid_alive(pid):
        sys.stderr.write(f"gunicorn.conf.py: master {pid} is exiting; taking over {path}\n")
        path.unlink(missing_ok=True)


_port = _bound_port()
bind = [f"{_env('HOST', '127.0.0.1')}:{_env('PORT', '8000')}"]
workers = _env_int("WEB_CONCURRENCY", 2)
threads = _env_int("WEB_THREADS", 1)  # sync workers: measured best for ingest (README)
worker_class = _env("WEB_WORKER_CLASS", "gthread" if threads > 1 else "sync")
timeout = _env_int("WEB_TIMEOUT", 30)
graceful_timeout = _env_int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("WEB_KEEPALIVE", 5)
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# "-" = stdout; set but empty = no access log.
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
# Relative to the project root; `make reload` signals the master named in it.
pidfile = str(ROOT / _env("GUNICORN_PIDFILE", f"var/gunicorn-{_port}.pid"))
Path(pidfile).parent.mkdir(parents=True, exist_ok=True)
if "GUNICORN_PID" not in os.environ:  # not a master re-executed by USR2 (it shares the socket)
    release_pidfile_of_exiting_master(
        Path(pidfile), _bind_argument() or bind[0], wait_seconds=graceful_timeout + 5
    )
# Signals to the pidfile's master are the one control channel (no socket in $HOME shared by every
# gunicorn of the user).
control_socket_disable = True
# Workers load the app after the fork, so a HUP reload picks up new code.
preload_app = False

# Re-read on every HUP: setting it again is harmless; clearing happens only in on_starting.
os.environ.setdefault(MULTIPROC_ENV, str(VAR_DIR / "prometheus" / f"web-{_port}"))


def on_starting(server):
    """Once per master: a fresh directory, unless this master was re-executed by USR2.

    After USR2 the old master's workers still serve and count into the same directory: clearing
    it would make the totals jump backwards.
    """
    if not os.environ.get(MULTIPROC_ENV):
        return
    path = Path(os.environ[MULTIPROC_ENV])
    path.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("GUNICORN_PID"):
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)


# A HUP reload, as the master saw it: the workers it replaces, oldest first, as (age, pid), and
# the age of the first new worker. Forked workers inherit a copy.
_reload: dict = {"old": [], "first_new_age": 0}


def on_reload(server):
    """Keeps the old workers serving while the new ones boot (gunicorn would stop them at once,
    and every request would wait for a boot, ~5 s): the master counts them as wanted, each new
    worker stops one old worker once it has loaded the app (`post_worker_init`), and `child_exit`
    gives the count back as they go."""
    old = sorted((worker.age, pid) for pid, worker in server.WORKERS.items())
    _reload["old"] = old
    _reload["first_new_age"] = server.worker_age + 1
    server.num_workers = server.cfg.workers + len(old)


def post_worker_init(worker):
    # The app is loaded: what start-up made (modules, URL patterns, settings, ~190,000 objects)
    # leaves the garbage collector's reach. A full collection otherwise walks all of it (~80 ms)
    # whenever enough objects outlive their request (spans waiting for export, caches), which
    # cost an ingest call ~40 us with tracing on (bench/_profile_tracing.py).
    gc.freeze()
    worker.log.info("Worker %s ready", worker.pid)
    _retire_replaced_workers(worker)


def _retire_replaced_workers(worker) -> None:
    """The n-th new worker of a reload stops the n-th old one (the last new one the rest; one
    started in place of a new worker that died while booting, every old one still there):
    gracefully, so it finishes its request; serving capacity never drops meanwhile."""
    old = _reload["old"]
    index = worker.age - _reload["first_new_age"]
    if not old or index < 0:
        return
    if index >= worker.cfg.workers - 1:
        retired = old[index:] if index == worker.cfg.workers - 1 else old
    else:
        retired = old[index : index + 1]
    for _, pid in retired:
        if _parent_of(pid) == worker.ppid:  # still our master's worker (not a reused pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def child_exit(server, worker):
    """A worker exited: its counters stay in the sum, its live gauges go. An old worker of a
    reload gives back its place in the count (see `on_reload`)."""
    old_ages = {age for age, _ in _reload["old"]}
    if worker.age in old_ages:
        _reload["old"] = [(age, pid) for age, pid in _reload["old"] if age != worker.age]
        server.num_workers = max(server.cfg.workers, server.num_workers - 1)
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
