"""API keys and scheduled tasks in `endpoints`: scope permission, key throttle, the task
dispatcher, reaper and retention, and their beat entries.

Imported by base.py after the framework settings it reads.
"""

from celery.schedules import crontab

from backend.env import env
from backend.settings.base import REST_FRAMEWORK
from backend.settings.celery import CELERY_BEAT_SCHEDULE

# API keys carry scopes: read for safe methods, write for the others (or the view's own scope).
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = [
    "rest_framework.permissions.IsAuthenticated",
    "endpoints.permissions.ApiKeyScopePermission",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    *REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"],
    "endpoints.throttling.ApiKeyRateThrottle",
]
# last_used_at is written at most once per this many seconds per key.
API_KEY_LAST_USED_INTERVAL_SECONDS = env.int("API_KEY_LAST_USED_INTERVAL_SECONDS", default=60)
TASK_DISPATCH_INTERVAL_SECONDS = env.float("TASK_DISPATCH_INTERVAL_SECONDS", default=1.0)
# A due task still pending this long after it was sent is sent again (claiming makes it safe).
TASK_REDISPATCH_AFTER_SECONDS = env.int("TASK_REDISPATCH_AFTER_SECONDS", default=60)
TASK_REAPER_INTERVAL_SECONDS = env.int("TASK_REAPER_INTERVAL_SECONDS", default=30)
TASK_STUCK_MARGIN_SECONDS = env.int("TASK_STUCK_MARGIN_SECONDS", default=60)
TASK_RETENTION_DAYS = env.int("TASK_RETENTION_DAYS", default=30)
TASK_PARAMETERS_MAX_BYTES = env.int("TASK_PARAMETERS_MAX_BYTES", default=64 * 1024)
TASK_LONG_RUNNING_MAX_SECONDS = env.int("TASK_LONG_RUNNING_MAX_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["endpoints-dispatch-due-tasks"] = {
    "task": "endpoints.dispatch_due_tasks",
    "schedule": TASK_DISPATCH_INTERVAL_SECONDS,
    # A tick that waited behind busy workers is useless: the next one does the same job.
    "options": {"expires": max(5.0, 5 * TASK_DISPATCH_INTERVAL_SECONDS)},
}
CELERY_BEAT_SCHEDULE["endpoints-reap-stuck-tasks"] = {
    "task": "endpoints.reap_stuck_tasks",
    "schedule": float(TASK_REAPER_INTERVAL_SECONDS),
    "options": {"expires": float(TASK_REAPER_INTERVAL_SECONDS)},
}
CELERY_BEAT_SCHEDULE["endpoints-purge-finished-tasks"] = {
    "task": "endpoints.purge_finished_tasks",
    "schedule": crontab(hour=3, minute=17),
}
