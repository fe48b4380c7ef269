"""The Celery worker serves its own metrics over HTTP, summed over its prefork children.

Deliveries and task outcomes are counted in the worker's processes, in memory, so the web's
/metrics never sees them: the worker's main process answers Prometheus itself
(`CELERY_METRICS_ADDR`:`CELERY_METRICS_PORT`, default 127.0.0.1:9808; port 0 or empty = off). Its
children write to a multiprocess directory of the worker's own (`CELERY_METRICS_DIR`, default
var/prometheus/worker-<port>), cleared at worker start, which is why several workers on one machine
each need their own port.

The directory has to be chosen before prometheus_client creates the first metric, that is before
Django is set up: `connect()` is called before the Celery app exists, so our `import_modules`
receiver runs ahead of the Django fixup's `django.setup()`. It runs only under `celery worker`
(beat, shell and inspect send the same signal and must not touch a worker's directory).
"""

import logging
import os
from pathlib import Path

from celery import signals

from backend.common import prometheus
from backend.env import VAR_DIR, env

logger = logging.getLogger(__name__)

DEFAULT_PORT = 9808
_server = None
_registry = None
_report: tuple[int, str, object, object, object] | tuple[int, str, object, object] | None = None


def metrics_port() -> int:
    value = env.str("CELERY_METRICS_PORT", default=str(DEFAULT_PORT)).strip()
    return int(value) if value else 0


def metrics_dir(port: int) -> Path:
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


def prepare_process(**kwargs: object) -> None:
    """Picks this worker's metrics mode and starts serving, before Django and the task modules
    are imported (so before any metric exists) and before the pool forks its children."""
    global _server, _report, _registry
    if not _is_worker_command() or _server is not None:
        return
    port = metrics_port()
    if not port:
        # Off: plain per-process metrics, and never the files of a web server's directory
        # inherited through the environment.
        prometheus.use_single_process()
        return
    directory = metrics_dir(port)
    directory.mkdir(parents=True, exist_ok=True)
    prometheus.use_multiproc_dir(directory)  # before prometheus_client is first imported
    addr = env.str("CELERY_METRICS_ADDR", default="127.0.0.1")
    from prometheus_client import start_http_server

    registry = prometheus.multiprocess_registry(directory)
    try:
        # Bound before the directory is cleared: a second worker given the same port (and so the
        # same default directory) must not wipe the counts of the one already serving them.
        _server, _thread = start_http_server(port, addr=addr, registry=registry)
    except OSError as exc:
        # Deliveries matter more than their metrics: the worker runs on, loudly unobserved.
        prometheus.use_single_process()
        _report = (logging.ERROR, "Worker metrics not served on %s:%s: %s", addr, port, exc)
        return
    prometheus.reset_multiproc_dir(directory)
    _registry = registry
    _report = (logging.INFO, "Worker metrics served at http://%s:%s/metrics", addr, port)


def report(**kwargs: object) -> None:
    """Logs the outcome once the worker's logging is set up (it is not yet in prepare_process),
    and adds the collectors of `WORKER_METRICS_COLLECTORS` (Django is set up by now): values read
    at scrape time in this main process, such as the pipeline's backlog gauges."""
    if _report is not None:
        logger.log(*_report)
    if _registry is not None:
        from django.conf import settings
        from django.utils.module_loading import import_string

        for path in getattr(settings, "WORKER_METRICS_COLLECTORS", []):
            _registry.register(import_string(path)())


def stop_server(**kwargs: object) -> None:
    global _server, _registry
    _registry = None
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _server = None


def mark_child_dead(**kwargs: object) -> None:
    """A prefork child exits: its counters stay in the sum, its live gauges go."""
    prometheus.mark_process_dead(os.getpid())


def connect() -> None:
    """Connects the receivers; call before creating the Celery app (see the module docstring)."""
    signals.import_modules.connect(prepare_process, weak=False, dispatch_uid=__name__ + ".prepare")
    signals.worker_init.connect(report, weak=False, dispatch_uid=__name__ + ".report")
    signals.worker_shutdown.connect(stop_server, weak=False, dispatch_uid=__name__ + ".stop")
    signals.worker_process_shutdown.connect(
        mark_child_dead, weak=False, dispatch_uid=__name__ + ".child"
    )
