"""Celery side of the destinations app: every worker process runs a delivery engine.

Deliveries do not travel through the broker: the database is their queue (see `engine`). The
engine starts when a worker process is ready: in each prefork child (`worker_process_init`), or in
the worker itself for the solo and threads pools (`worker_ready`), and stops with it. The Celery
queue itself is left to scheduled tasks, mail and housekeeping, which never wait behind a
delivery.
"""

import gc
import logging

from celery import shared_task, signals
from django.conf import settings

logger = logging.getLogger(__name__)

_engine = None


def _engine_enabled() -> bool:
    return str(settings.DELIVERY_ENGINE).strip().lower() not in ("", "0", "off", "false", "no")


def engine_start() -> None:
    global _engine
    if _engine is not None or not _engine_enabled():
        return
    from destinations.pipeline.engine import DeliveryEngine

    # What the worker loaded (Django, Celery, ~200,000 objects) leaves the garbage collector's
    # reach: the engine keeps calls, jobs and connections alive across turns, so full
    # collections come often, and each would walk all of it (as gunicorn.conf.py does for web).
    gc.freeze()
    _engine = DeliveryEngine().start()


def engine_stop() -> None:
    global _engine
    if _engine is not None:
        _engine.stop()
        _engine = None


@signals.worker_process_init.connect(dispatch_uid="destinations.engine_in_child")
def _start_in_child(**kwargs) -> None:
    engine_start()


@signals.worker_process_shutdown.connect(dispatch_uid="destinations.engine_child_stop")
def _stop_in_child(**kwargs) -> None:
    engine_stop()


@signals.worker_ready.connect(dispatch_uid="destinations.engine_in_worker")
def _start_in_worker(sender=None, **kwargs) -> None:
    from celery.concurrency.prefork import TaskPool as PreforkPool

    pool = getattr(sender, "pool", None)
    if not isinstance(pool, PreforkPool):  # prefork children start their own
        engine_start()


@signals.worker_shutdown.connect(dispatch_uid="destinations.engine_worker_stop")
def _stop_in_worker(**kwargs) -> None:
    engine_stop()


@shared_task(name="destinations.purge_old_events", ignore_result=True)
def purge_old_events() -> int:
    """Retention (beat): deletes old events whose deliveries all finished, in bounded batches."""
    from destinations.pipeline.retention import events_purge

    return events_purge(batch_size=settings.EVENT_RETENTION_BATCH)
