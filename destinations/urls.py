"""Canonical routes of this app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from destinations import ingest_views, views

router = SimpleRouter()
router.register("destinations", views.DestinationViewSet, basename="destination")
router.register("logs", views.DeliveryLogViewSet, basename="delivery-log")

urlpatterns = [
    path(
        "accounts/<int:account_id>/destinations/",
        views.AccountDestinationViewSet.as_view({"get": "list", "post": "create"}),
        name="account-destinations",
    ),
    path(
        "accounts/<int:account_id>/logs/",
        views.AccountDeliveryLogViewSet.as_view({"get": "list"}),
        name="account-logs",
    ),
    path(
        "accounts/<int:account_id>/logs/replay/",
        views.AccountDeliveryLogViewSet.as_view({"post": "replay"}),
        name="account-logs-replay",
    ),
    *router.urls,
]

# Mounted by backend/urls.py ahead of every other route (see there).
ingest_urlpatterns = [
    path("incoming-data/", ingest_views.IngestView.as_view(), name="incoming-data"),
]
