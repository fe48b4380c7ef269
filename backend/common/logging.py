"""Logging filters: the current request id on every record; routine periodic tasks at DEBUG."""

import logging
import os

from backend.common.request_id import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to each record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


# Celery's per-task lines (beat's "Sending due task", the worker's "received" / "succeeded") of
# the tasks that run every second: at DEBUG, so that an idle `make run` is quiet and real
# messages are not buried. `LOG_LEVEL=DEBUG` shows them again (also under `celery -l INFO`, which
# sets the root logger's level itself).
ROUTINE_TASKS = ("endpoints.dispatch_due_tasks", "endpoints-dispatch-due-tasks")
CELERY_TASK_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")


class RoutineTasksAtDebugFilter(logging.Filter):
    """Demotes the INFO lines of routine periodic tasks to DEBUG (and drops them unless the root
    logger is at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith(CELERY_TASK_LOGGERS):
            return True
        message = record.getMessage()
        if not any(task in message for task in ROUTINE_TASKS):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG) or _debug_asked()


def _debug_asked() -> bool:
    return os.environ.get("LOG_LEVEL", "").upper() == "DEBUG"
