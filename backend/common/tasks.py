"""Housekeeping tasks of the shared plumbing (scheduled by name in settings)."""

from celery import shared_task
from django.conf import settings

from backend.common.embedded_broker import purge_consumed_messages


@shared_task(name="common.purge_consumed_broker_messages", ignore_result=True)  # type: ignore[untyped-decorator]
def purge_consumed_broker_messages() -> int:
    """The embedded broker's taken messages, deleted (beat, every 10 minutes)."""
    path = settings.BROKER_SQLITE_PATH
    return purge_consumed_messages(path) if path is not None else 0
