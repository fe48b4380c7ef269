"""The Celery worker serves its own metrics over HTTP, summed over its prefork children.

Deliveries and task outcomes are counted in the worker's processes, in memory, so the web's
/metrics never sees them: the worker's main process answers Prometheus itself
(`CELERY_METRICS_ADDR`:`CELERY_METRICS_PORT`, default 127.0.0.1:9808; port 0 or empty = off). Its
children write to a multiprocess directory of the worker's own (`CELERY_METRICS_DIR`, default
var/prometheus/worker-<port>), cleared at worker start, which is why several workers on one machine
each need their own port.

The directory has to be chosen before prometheus_client creates the first metric, that is before
Django is set up: `connect()` is called before the Celery app exists, so our `import_modules`
receiver runs ahead of the Django fixup's `django.setup()`.
"""

import logging
import os

from celery import signals

from backend.common import prometheus
from backend.env import VAR_DIR, env

logger = logging.getLogger(__name__)

DEFAULT_PORT = 9808
_server = None


def metrics_port() -> int:
    value = env.str("CELERY_METRICS_PORT", default=str(DEFAULT_PORT)).strip()
    return int(value) if value else 0


def metrics_dir(port: int):
    from pathlib import Path

    configured = env.str("CELERY_METRICS_DIR", default="")
    return Path(configured) if configured else VAR_DIR / "prometheus" / f"worker-{port}"


def _is_worker_command() -> bool:
    """True in `celery worker` (not beat, shell or inspect, which load the same modules)."""
    import click

    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.command.name == "worker":
            return True
        ctx = ctx.parent
    return False


def prepare_process(**kwargs) -> None:
    """Picks this worker's metrics mode, before Django and the task modules are imported."""
    if not _is_worker_command():
        return
    port = metrics_port()
    if not port:
        # Off: plain per-process metrics, and never the files of a web server's directory
        # inherited through the environment.
        prometheus.use_single_process()
        return
    directory = metrics_dir(port)
    prometheus.reset_multiproc_dir(directory)
    prometheus.use_multiproc_dir(directory)


def start_server(sender=None, **kwargs) -> None:
    """Serves the directory's sum from the worker's main process (children inherit no thread)."""
    global _server
    port = metrics_port()
    if not port or prometheus.multiproc_dir() is None or _server is not None:
        return
    from prometheus_client import start_http_server

    addr = env.str("CELERY_METRICS_ADDR", default="127.0.0.1")
    try:
        _server, _thread = start_http_server(
            port, addr=addr, registry=prometheus.multiprocess_registry()
        )
    except OSError as exc:
        # Deliveries matter more than their metrics: the worker runs on, loudly unobserved.
        logger.error("Worker metrics not served on %s:%s: %s", addr, port, exc)
        return
    logger.info("Worker metrics served at http://%s:%s/metrics", addr, port)


def stop_server(**kwargs) -> None:
    global _server
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _server = None


def mark_child_dead(**kwargs) -> None:
    """A prefork child exits: its counters stay in the sum, its live gauges go."""
    prometheus.mark_process_dead(os.getpid())


def connect() -> None:
    """Connects the receivers; call before creating the Celery app (see the module docstring)."""
    signals.import_modules.connect(prepare_process, weak=False, dispatch_uid=__name__ + ".prepare")
    signals.worker_init.connect(start_server, weak=False, dispatch_uid=__name__ + ".start")
    signals.worker_shutdown.connect(stop_server, weak=False, dispatch_uid=__name__ + ".stop")
    signals.worker_process_shutdown.connect(
        mark_child_dead, weak=False, dispatch_uid=__name__ + ".child"
    )
