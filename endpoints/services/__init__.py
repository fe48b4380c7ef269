"""Writes of the endpoints app, one module per concern: API keys, scheduled tasks, OAuth2
applications. This package re-exports their public services, so `from endpoints import services`
and `from endpoints.services import X` keep working.
"""

from endpoints.services.api_keys import (
    API_KEY_UPDATABLE,
    MAX_GRACE_PERIOD_SECONDS,
    api_key_create,
    api_key_delete,
    api_key_regenerate,
    api_key_touch,
    api_key_update,
    validate_rate_limit,
)
from endpoints.services.oauth_applications import (
    OAUTH_APPLICATION_FIELDS,
    oauth_application_create,
    oauth_application_delete,
    oauth_application_rotate_secret,
    oauth_application_update,
)
from endpoints.services.scheduled_tasks import (
    RUN_TASK_NAME,
    WORKER_LOST,
    scheduled_task_cancel,
    scheduled_task_create,
    scheduled_task_delete,
    scheduled_task_dispatch_due,
    scheduled_task_enqueue,
    scheduled_task_purge_finished,
    scheduled_task_reap_stuck,
    scheduled_task_run,
    scheduled_task_update,
    scheduled_task_validate_parameters,
)

__all__ = [
    "API_KEY_UPDATABLE",
    "MAX_GRACE_PERIOD_SECONDS",
    "OAUTH_APPLICATION_FIELDS",
    "RUN_TASK_NAME",
    "WORKER_LOST",
    "api_key_create",
    "api_key_delete",
    "api_key_regenerate",
    "api_key_touch",
    "api_key_update",
    "oauth_application_create",
    "oauth_application_delete",
    "oauth_application_rotate_secret",
    "oauth_application_update",
    "scheduled_task_cancel",
    "scheduled_task_create",
    "scheduled_task_delete",
    "scheduled_task_dispatch_due",
    "scheduled_task_enqueue",
    "scheduled_task_purge_finished",
    "scheduled_task_reap_stuck",
    "scheduled_task_run",
    "scheduled_task_update",
    "scheduled_task_validate_parameters",
    "validate_rate_limit",
]
