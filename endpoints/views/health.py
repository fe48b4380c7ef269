"""Health checks, the API root documents, seed 001's router root and the home page."""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse as drf_reverse
from rest_framework.views import APIView

from endpoints import selectors


class HealthJSONRenderer(JSONRenderer):
    """`application/health+json` (draft-inadarei-api-health-check)."""

    media_type = "application/health+json"


HEALTH_RESPONSE = inline_serializer(
    "Health",
    fields={
        "status": serializers.CharField(help_text='"ok" or "error"'),
        "timestamp": serializers.DateTimeField(),
        "components": inline_serializer(
            "HealthComponents",
            fields={
                "database": serializers.BooleanField(),
                "redis": serializers.BooleanField(
                    allow_null=True, help_text="null when REDIS_URL is not set (not configured)."
                ),
                "cache": serializers.BooleanField(
                    required=False,
                    help_text="The embedded file cache, checked when REDIS_URL is not set.",
                ),
            },
        ),
        "info": inline_serializer(
            "HealthInfo",
            fields={
                "version": serializers.CharField(),
                "environment": serializers.CharField(),
                "backends": inline_serializer(
                    "HealthBackends",
                    fields={
                        "database": serializers.CharField(help_text="sqlite or postgresql"),
                        "cache": serializers.CharField(help_text='redis or "file (embedded)"'),
                        "broker": serializers.CharField(
                            help_text='redis, amqp or "sqlite (embedded)"'
                        ),
                    },
                ),
            },
        ),
    },
)


@extend_schema(
    tags=["health"],
    summary="Health of the service and its components (503 when one is down)",
    description=(
        "Only configured components are checked. `redis` is a Redis PING on REDIS_URL; without "
        "REDIS_URL (embedded default) it is null and `cache` reports whether the file cache "
        "standing in for Redis works. `info.backends` says what this server runs on. "
        "`Accept: application/health+json` gets the IETF health-check format (`status` "
        "pass/fail, `checks`)."
    ),
    responses={
        200: HEALTH_RESPONSE,
        503: OpenApiResponse(HEALTH_RESPONSE, description="A component is down."),
    },
)
class HealthView(APIView):
    """Public, unthrottled, no authentication: load balancers call it often."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    renderer_classes = [JSONRenderer, HealthJSONRenderer]

    def get(self, request):
        report = selectors.health_report()
        code = status.HTTP_200_OK if report["ok"] else status.HTTP_503_SERVICE_UNAVAILABLE
        headers = {"Cache-Control": "no-store"}
        if isinstance(request.accepted_renderer, HealthJSONRenderer):
            return Response(self._ietf(report), status=code, headers=headers)
        body = {
            "status": "ok" if report["ok"] else "error",
            "timestamp": report["time"],
            # The seed body always has `redis`: null says "not configured", never "up".
            "components": {"redis": None}
            | {name: ok for name, (ok, _) in report["components"].items()},
            "info": {
                "version": settings.API_VERSION,
                "environment": settings.ENVIRONMENT,
                "backends": report["backends"],
            },
        }
        return Response(body, status=code, headers=headers)

    @staticmethod
    def _ietf(report: dict) -> dict:
        component_types = {"database": "datastore", "redis": "datastore", "cache": "datastore"}
        return {
            "status": "pass" if report["ok"] else "fail",
            "version": settings.API_VERSION.split(".")[0],
            "releaseId": settings.API_VERSION,
            "serviceId": settings.API_NAME,
            "description": f"{settings.API_NAME} ({settings.ENVIRONMENT})",
            "checks": {
                f"{name}:responseTime": [
                    {
                        "componentType": component_types[name],
                        "status": "pass" if ok else "fail",
                        "observedValue": elapsed_ms,
                        "observedUnit": "ms",
                        "time": report["time"],
                    }
                ]
                for name, (ok, elapsed_ms) in report["components"].items()
            },
        }


@extend_schema_view(get=extend_schema(tags=["compat"], operation_id="compat_health_retrieve"))
class CompatHealthView(HealthView):
    """Seed 002 `/health/`."""


@extend_schema_view(get=extend_schema(tags=["compat"], operation_id="compat_api_health_retrieve"))
class CompatApiHealthView(HealthView):
    """Seed 004 `/api/health/`."""


API_ROOT_RESPONSE = inline_serializer(
    "ApiRoot",
    fields={
        "name": serializers.CharField(),
        "version": serializers.CharField(),
        "environment": serializers.CharField(),
        "links": serializers.DictField(child=serializers.URLField()),
    },
)


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path)


@extend_schema(
    tags=["meta"], summary="API root: name, version and links", responses=API_ROOT_RESPONSE
)
class ApiRootView(APIView):
    """Name, version and links to the docs, the schema, health and the resources."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(self.info(request))

    @staticmethod
    def info(request) -> dict:
        api = reverse("endpoints:api-root")
        return {
            "name": settings.API_NAME,
            "version": settings.API_VERSION,
            "environment": settings.ENVIRONMENT,
            "links": {
                "docs": _absolute(request, reverse("swagger-ui")),
                "redoc": _absolute(request, reverse("redoc")),
                "schema": _absolute(request, reverse("schema")),
                "health": _absolute(request, reverse("endpoints:health")),
                "api": _absolute(request, api),
                "auth_token": _absolute(request, f"{api}auth/token/"),
                "users": _absolute(request, f"{api}users/"),
                "accounts": _absolute(request, f"{api}accounts/"),
                "api_keys": _absolute(request, reverse("endpoints:api-key-list")),
                "tasks": _absolute(request, reverse("endpoints:task-list")),
            },
        }


@extend_schema_view(get=extend_schema(tags=["compat"], operation_id="compat_api_root_retrieve"))
class CompatApiRootView(ApiRootView):
    """Seed 004 `/api/`."""


class HomeView(ApiRootView):
    """`GET /` (seeds 001/002): API info as JSON; browsers go to the Swagger UI."""

    @extend_schema(
        tags=["compat"],
        operation_id="compat_home_retrieve",
        summary="API information (a browser asking for HTML is redirected to /api/docs/)",
        responses={
            200: API_ROOT_RESPONSE,
            302: OpenApiResponse(
                description="A browser asking for text/html is redirected to /api/docs/."
            ),
        },
    )
    def get(self, request):
        accept = request.headers.get("Accept", "")
        if "text/html" in accept and "json" not in accept:
            return HttpResponseRedirect(reverse("swagger-ui"))
        return Response(self.info(request))


# --- Seed 001's router root --------------------------------------------------------------

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
        return Response({key: drf_reverse(name, request=request) for key, name in ROUTES.items()})
