"""Canonical routes of this app (mounted under /api/v1/)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from endpoints import views

app_name = "endpoints"

router = SimpleRouter()
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("tasks", views.ScheduledTaskViewSet, basename="task")
router.register("oauth2-applications", views.OAuthApplicationViewSet, basename="oauth2-application")

urlpatterns = [
    path("", views.RouterRootView.as_view(), name="api-root"),
    path("health/", views.HealthView.as_view(), name="health"),
    path("", include(router.urls)),
]
