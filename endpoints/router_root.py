"""`GET /api/v1/`: seed 001's DefaultRouter root, the resources' list URLs by name."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

# Seed 001's router registered these three; the keys are its URL prefixes.
ROUTES = {
    "users": "user-list",
    "api-keys": "endpoints:api-key-list",
    "tasks": "endpoints:task-list",
}

ROUTER_ROOT_RESPONSE = inline_serializer(
    "RouterRoot", fields={key: serializers.URLField() for key in ROUTES}
)


@extend_schema(
    tags=["meta"],
    summary="Router root: each resource's list URL (seed 001)",
    responses=ROUTER_ROOT_RESPONSE,
)
class RouterRootView(APIView):
    """Like DRF's DefaultRouter root: `{"users": <url>, "api-keys": <url>, "tasks": <url>}`."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({key: reverse(name, request=request) for key, name in ROUTES.items()})
