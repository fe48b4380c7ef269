"""gunicorn settings for every way the web runs (Procfile, Dockerfile, docker-compose).

Knobs (environment): HOST, PORT, WEB_CONCURRENCY (workers), WEB_THREADS (threads per worker;
more than 1 = the gthread worker), WEB_WORKER_CLASS, WEB_TIMEOUT, WEB_GRACEFUL_TIMEOUT,
WEB_KEEPALIVE, WEB_ACCESS_LOG ("-" = stdout, empty = off), FORWARDED_ALLOW_IPS, GUNICORN_PIDFILE,
PROMETHEUS_MULTIPROC_DIR. Command-line flags and GUNICORN_CMD_ARGS still win over this file.

Zero-downtime reload: HUP to the master in var/gunicorn-<port>.pid (`make reload`). The master
keeps the listening socket, starts new workers with fresh code and lets the old ones finish their
requests, so no connection is refused. To replace the master itself (a gunicorn upgrade): USR2, then TERM to
the old master once the new one answers (see README).

Metrics: prometheus_client's multiprocess mode (backend/common/prometheus.py). The directory is set
here, before any worker imports prometheus_client, and cleared once when the master starts: every
worker's /metrics then shows the sum over all workers of this server.
"""

import argparse
import os
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.common import prometheus  # noqa: E402 - needs the project on sys.path
from backend.env import VAR_DIR, env  # noqa: E402


def _bound_port() -> str:
    """The port this master listens on. `--bind` on the command line (or in GUNICORN_CMD_ARGS)
    wins over this file, and the pidfile and metrics directory are named after the port, so that
    two gunicorns of one checkout (a benchmark beside `make run`) never share them."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-b", "--bind", action="append")
    args = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")) + sys.argv[1:]
    binds = parser.parse_known_args(args)[0].bind
    if not binds:
        return env.str("PORT", default="8000")
    return re.sub(r"[^A-Za-z0-9]+", "_", binds[0].rsplit(":", 1)[-1]).strip("_")


_port = _bound_port()
bind = [f"{env.str('HOST', default='127.0.0.1')}:{env.str('PORT', default='8000')}"]
workers = env.int("WEB_CONCURRENCY", default=2)
threads = env.int("WEB_THREADS", default=4)
worker_class = env.str("WEB_WORKER_CLASS", default="gthread" if threads > 1 else "sync")
timeout = env.int("WEB_TIMEOUT", default=30)
graceful_timeout = env.int("WEB_GRACEFUL_TIMEOUT", default=30)
keepalive = env.int("WEB_KEEPALIVE", default=5)
forwarded_allow_ips = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1,::1")
accesslog = env.str("WEB_ACCESS_LOG", default="-") or None
# Relative to the project root; `make reload` signals the master named in it.
pidfile = str(ROOT / env.str("GUNICORN_PIDFILE", default=f"var/gunicorn-{_port}.pid"))
Path(pidfile).parent.mkdir(parents=True, exist_ok=True)
# Signals to the pidfile's master are the one control channel (no socket in $HOME shared by every
# gunicorn of the user).
control_socket_disable = True
# Workers load the app after the fork, so a HUP reload picks up new code.
preload_app = False

# Re-read on every HUP: setting it again is harmless; clearing happens only in on_starting.
os.environ.setdefault(prometheus.ENV_VAR, str(VAR_DIR / "prometheus" / f"web-{_port}"))


def on_starting(server):
    """Once per master: a fresh directory, unless this master was re-executed by USR2.

    After USR2 the old master's workers still serve and count into the same directory: clearing
    it would make the totals jump backwards.
    """
    path = prometheus.multiproc_dir()
    if path is None:
        return
    if os.environ.get("GUNICORN_PID"):
        path.mkdir(parents=True, exist_ok=True)
    else:
        prometheus.reset_multiproc_dir(path)


def post_worker_init(worker):
    worker.log.info("Worker %s ready", worker.pid)


def child_exit(server, worker):
    prometheus.mark_process_dead(worker.pid)
