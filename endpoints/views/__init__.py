"""Views of the endpoints app, one module per concern: API keys, scheduled tasks, health and API
root, OAuth2 applications. Re-exported here for the URL modules."""

from endpoints.views.api_keys import (
    ApiKeyViewSet,
)
from endpoints.views.health import (
    API_ROOT_RESPONSE,
    HEALTH_RESPONSE,
    ApiRootView,
    CompatApiHealthView,
    CompatApiRootView,
    CompatHealthView,
    HealthJSONRenderer,
    HealthView,
    HomeView,
    RouterRootView,
)
from endpoints.views.oauth_applications import (
    OAuthApplicationViewSet,
)
from endpoints.views.scheduled_tasks import (
    COMPAT_TASK_EXAMPLE,
    CompatTaskCreateView,
    CompatTaskStatusView,
    ScheduledTaskFilter,
    ScheduledTaskViewSet,
)

__all__ = [
    "RouterRootView",
    "API_ROOT_RESPONSE",
    "ApiKeyViewSet",
    "ApiRootView",
    "COMPAT_TASK_EXAMPLE",
    "CompatApiHealthView",
    "CompatApiRootView",
    "CompatHealthView",
    "CompatTaskCreateView",
    "CompatTaskStatusView",
    "HEALTH_RESPONSE",
    "HealthJSONRenderer",
    "HealthView",
    "HomeView",
    "OAuthApplicationViewSet",
    "ScheduledTaskFilter",
    "ScheduledTaskViewSet",
]
