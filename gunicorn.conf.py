"""gunicorn settings for every way the web runs (Procfile, Dockerfile, docker-compose).

Knobs (environment): HOST, PORT, WEB_CONCURRENCY (workers), WEB_THREADS (threads per worker;
more than 1 = the gthread worker), WEB_WORKER_CLASS, WEB_TIMEOUT, WEB_GRACEFUL_TIMEOUT,
WEB_KEEPALIVE, WEB_ACCESS_LOG ("-" = stdout, empty = off), FORWARDED_ALLOW_IPS, GUNICORN_PIDFILE,
PROMETHEUS_MULTIPROC_DIR. Command-line flags and GUNICORN_CMD_ARGS still win over this file.

Zero-downtime reload: HUP to the master in var/gunicorn-<port>.pid (`make reload`). The master
keeps the listening socket, starts new workers with fresh code and lets the old ones finish their
requests, so no connection is refused. To replace the master itself (a gunicorn upgrade): USR2,
then TERM to the old master once the new one answers (see README).

Metrics: prometheus_client's multiprocess mode (see backend/common/prometheus.py). The directory
is set here, before any worker imports prometheus_client, and cleared once when the master starts:
every worker's /metrics then shows the sum over all workers of this server.
"""

import argparse
import os
import re
import shlex
import sys
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


def _bound_port() -> str:
    """The port this master listens on. `--bind` on the command line (or in GUNICORN_CMD_ARGS)
    wins over this file, and the pidfile and metrics directory are named after the port, so that
    two gunicorns of one checkout (a benchmark beside `make run`) never share them."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-b", "--bind", action="append")
    args = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")) + sys.argv[1:]
    binds = parser.parse_known_args(args)[0].bind
    if not binds:
        return _env("PORT", "8000")
    return re.sub(r"[^A-Za-z0-9]+", "_", binds[0].rsplit(":", 1)[-1]).strip("_")


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


def post_worker_init(worker):
    worker.log.info("Worker %s ready", worker.pid)


def child_exit(server, worker):
    """A worker exited: its counters stay in the sum, its live gauges go."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
