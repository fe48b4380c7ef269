"""Views of this app: API keys, scheduled tasks (canonical and seed 002), health, API root,
and the staff API for OAuth2 applications."""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.filters import StrictFilterSet, TextFilter
from backend.common.throttling import UserRateThrottle
from endpoints import selectors, services
from endpoints.models import ApiKey, ScheduledTask
from endpoints.permissions import ApiKeyScopePermission, IsNotApiKey
from endpoints.serializers import (
    ApiKeyInputSerializer,
    ApiKeyRegenerateSerializer,
    ApiKeySerializer,
    ApiKeyWithSecretSerializer,
    CeleryStyleTaskSerializer,
    OAuthApplicationInputSerializer,
    OAuthApplicationSerializer,
    OAuthApplicationWithSecretSerializer,
    ScheduledTaskCancelledSerializer,
    ScheduledTaskInputSerializer,
    ScheduledTaskSerializer,
    ScheduledTaskStatusSerializer,
)
from endpoints.task_types import task_type_names
from endpoints.throttling import AnonTasksRateThrottle, ApiKeyRateThrottle

# --- API keys -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List your API keys (prefix only, never the key)"),
    retrieve=extend_schema(summary="Show one of your API keys"),
    create=extend_schema(
        summary="Create an API key (the full key is in this response only)",
        request=ApiKeyInputSerializer,
        responses={201: ApiKeyWithSecretSerializer},
        examples=[OpenApiExample("Seed 000", value={"name": "My API Key"}, request_only=True)],
    ),
    update=extend_schema(
        summary="Replace an API key's settings",
        request=ApiKeyInputSerializer,
        responses=ApiKeySerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of an API key's settings",
        request=ApiKeyInputSerializer,
        responses=ApiKeySerializer,
    ),
    destroy=extend_schema(summary="Delete an API key (it stops working at once)"),
)
@extend_schema(tags=["api-keys"])
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's API keys. Managed with a user login only: a key cannot manage keys."""

    serializer_class = ApiKeySerializer
    permission_classes = [IsAuthenticated, IsNotApiKey]
    queryset = ApiKey.objects.none()

    def get_queryset(self):
        return selectors.api_key_list(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = ApiKeyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw = services.api_key_create(user=request.user, **serializer.to_service_kwargs())
        api_key.key = raw
        return Response(ApiKeyWithSecretSerializer(api_key).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        api_key = self.get_object()
        serializer = ApiKeyInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        api_key = services.api_key_update(api_key=api_key, data=serializer.to_service_kwargs())
        return Response(ApiKeySerializer(api_key).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.api_key_delete(api_key=instance)

    @extend_schema(
        summary="Regenerate an API key (new key in this response; old one invalid, or after a grace period)",
        request=ApiKeyRegenerateSerializer,
        responses={200: ApiKeyWithSecretSerializer},
    )
    @action(detail=True, methods=["post"])
    def regenerate(self, request, pk=None):
        api_key = self.get_object()
        serializer = ApiKeyRegenerateSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        api_key, raw = services.api_key_regenerate(
            api_key=api_key, grace_period_seconds=serializer.validated_data["grace_period_seconds"]
        )
        api_key.key = raw
        return Response(ApiKeyWithSecretSerializer(api_key).data)


# --- Scheduled tasks -------------------------------------------------------------------------------


class ScheduledTaskFilter(StrictFilterSet):
    status = filters.ChoiceFilter(choices=ScheduledTask.Status.choices)
    task_type = TextFilter(max_length=64)

    class Meta:
        model = ScheduledTask
        fields = ["status", "task_type"]


@extend_schema_view(
    list=extend_schema(summary="List your scheduled tasks"),
    retrieve=extend_schema(summary="Show one of your tasks"),
    create=extend_schema(
        summary="Schedule a task (runs once at scheduled_at, default now)",
        request=ScheduledTaskInputSerializer,
        responses={201: ScheduledTaskSerializer},
        examples=[
            OpenApiExample(
                "Seed 000 (no type: process_data)",
                value={"name": "My Task", "scheduled_at": "2025-03-30T12:00:00Z"},
                request_only=True,
            ),
            OpenApiExample(
                "Add in one minute",
                value={
                    "name": "Sum",
                    "task_type": "add",
                    "parameters": {"x": 5, "y": 3},
                    "scheduled_at": "2030-01-01T12:00:00Z",
                },
                request_only=True,
            ),
        ],
    ),
    update=extend_schema(
        summary="Replace a pending task (409 once it has started)",
        request=ScheduledTaskInputSerializer,
        responses={200: ScheduledTaskSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a pending task (409 once it has started)",
        request=ScheduledTaskInputSerializer,
        responses={200: ScheduledTaskSerializer},
    ),
    destroy=extend_schema(summary="Delete a task (a pending one is cancelled first)"),
)
@extend_schema(tags=["tasks"])
class ScheduledTaskViewSet(viewsets.ModelViewSet):
    """The caller's scheduled tasks; filters `?status=` and `?task_type=`."""

    serializer_class = ScheduledTaskSerializer
    filterset_class = ScheduledTaskFilter
    queryset = ScheduledTask.objects.none()

    def get_queryset(self):
        return selectors.scheduled_task_list(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = ScheduledTaskInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.scheduled_task_create(owner=request.user, **serializer.validated_data)
        return Response(ScheduledTaskSerializer(task).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        task = self.get_object()
        partial = kwargs.get("partial", False)
        serializer = ScheduledTaskInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if partial:
            # Defaults of the create form must not overwrite what a PATCH did not send.
            data = {key: value for key, value in data.items() if key in request.data}
        task = services.scheduled_task_update(task=task, data=data)
        return Response(ScheduledTaskSerializer(task).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.scheduled_task_delete(task=instance)

    @extend_schema(summary="A task's status and result", responses=ScheduledTaskStatusSerializer)
    @action(detail=True, methods=["get"], url_path="status")
    def task_status(self, request, pk=None):
        return Response(ScheduledTaskStatusSerializer(self.get_object()).data)

    @extend_schema(
        summary="Cancel a pending task (409 if it is no longer pending)",
        request=None,
        responses={200: ScheduledTaskCancelledSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        task = services.scheduled_task_cancel(task=self.get_object())
        return Response(
            {"message": "Task cancelled successfully", "task": ScheduledTaskSerializer(task).data}
        )


COMPAT_TASK_EXAMPLE = {"type": "add", "x": 5, "y": 3}


class CompatTaskCreateView(APIView):
    """`POST /tasks/`: anonymous callers allowed (strict throttle); a logged-in caller owns the task."""

    # Explicit classes replace the defaults: keep the API-key scope check.
    permission_classes = [AllowAny, ApiKeyScopePermission]
    throttle_classes = [AnonTasksRateThrottle, UserRateThrottle, ApiKeyRateThrottle]

    @extend_schema(
        tags=["compat"],
        operation_id="compat_tasks_create",
        summary="Seed 002: run a task now (type + its parameters at the top level)",
        request=inline_serializer(
            "CompatTaskCreateRequest",
            fields={
                "type": serializers.ChoiceField(choices=task_type_names()),
                "x": serializers.FloatField(required=False),
                "y": serializers.FloatField(required=False),
                "duration": serializers.IntegerField(required=False),
                "data": serializers.JSONField(required=False),
            },
        ),
        responses={
            202: inline_serializer(
                "CompatTaskCreated",
                fields={"task_id": serializers.UUIDField(), "status": serializers.CharField()},
            )
        },
        examples=[OpenApiExample("Add", value=COMPAT_TASK_EXAMPLE, request_only=True)],
    )
    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        task_type = body.get("type")
        if not task_type:
            raise ValidationError({"type": ["This field is required."]})
        if not isinstance(task_type, str) or task_type not in task_type_names():
            raise ValidationError(
                {"type": [f"Unknown task type. Choose one of: {', '.join(task_type_names())}."]}
            )
        parameters = {key: value for key, value in body.items() if key != "type"}
        try:
            task = services.scheduled_task_create(
                owner=request.user if request.user.is_authenticated else None,
                name=f"{task_type} task",
                task_type=task_type,
                parameters=parameters,
            )
        except ValidationError as exc:
            # Seed 002 sends the parameters at the top level: name them there too.
            detail = (
                exc.detail.get("parameters", exc.detail)
                if isinstance(exc.detail, dict)
                else exc.detail
            )
            raise ValidationError(detail) from exc
        return Response(
            {"task_id": str(task.pk), "status": "PENDING"}, status=status.HTTP_202_ACCEPTED
        )


class CompatTaskStatusView(APIView):
    """`GET /tasks/{task_id}/`: anonymous tasks by id; an owned task to its owner only.
    Polling is throttled by the default rates, not by the strict task-creation rate."""

    permission_classes = [AllowAny, ApiKeyScopePermission]

    @extend_schema(
        tags=["compat"],
        operation_id="compat_tasks_retrieve",
        summary="Seed 002: a task's Celery-style state and result",
        responses={200: CeleryStyleTaskSerializer},
    )
    def get(self, request, task_id):
        task = selectors.scheduled_task_get_visible(task_id=task_id, user=request.user)
        if task is None:
            raise NotFound("Task not found.")
        return Response(CeleryStyleTaskSerializer(task).data)


# --- Health and API root ---------------------------------------------------------------------------


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
            fields={"database": serializers.BooleanField(), "redis": serializers.BooleanField()},
        ),
        "info": inline_serializer(
            "HealthInfo",
            fields={"version": serializers.CharField(), "environment": serializers.CharField()},
        ),
    },
)


@extend_schema(
    tags=["health"],
    summary="Health of the service and its components (503 when one is down)",
    description=(
        "`redis` is a Redis PING on REDIS_URL; without REDIS_URL (embedded default) it reports "
        "whether the cache standing in for Redis works. `Accept: application/health+json` gets "
        "the IETF health-check format (`status` pass/fail, `checks`)."
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
            "components": {name: ok for name, (ok, _) in report["components"].items()},
            "info": {"version": settings.API_VERSION, "environment": settings.ENVIRONMENT},
        }
        return Response(body, status=code, headers=headers)

    @staticmethod
    def _ietf(report: dict) -> dict:
        component_types = {"database": "datastore", "redis": "datastore"}
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


# --- OAuth2 applications (staff) --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List OAuth2 applications (staff)"),
    retrieve=extend_schema(summary="Show an OAuth2 application (staff)"),
    create=extend_schema(
        summary="Register an OAuth2 application (the client secret is in this response only)",
        request=OAuthApplicationInputSerializer,
        responses={201: OAuthApplicationWithSecretSerializer},
    ),
    update=extend_schema(
        summary="Replace an OAuth2 application's settings (staff)",
        request=OAuthApplicationInputSerializer,
        responses=OAuthApplicationSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of an OAuth2 application's settings (staff)",
        request=OAuthApplicationInputSerializer,
        responses=OAuthApplicationSerializer,
    ),
    destroy=extend_schema(summary="Delete an OAuth2 application and its tokens (staff)"),
)
@extend_schema(tags=["oauth2"])
class OAuthApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """OAuth2 client registration for staff, with an optional account binding for ingest.

    Staff logged in as themselves only: a delegated credential must not mint client credentials.
    """

    serializer_class = OAuthApplicationSerializer
    permission_classes = [IsAdminUser, IsNotApiKey, ApiKeyScopePermission]

    def get_queryset(self):
        return selectors.oauth_application_list()

    def _reloaded(self, application):
        return self.get_queryset().get(pk=application.pk)

    def create(self, request, *args, **kwargs):
        serializer = OAuthApplicationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        owner = data.pop("user", None) or request.user
        account_id = data.pop("account", None)
        application, raw_secret = services.oauth_application_create(
            user=owner, data=data, account_id=account_id
        )
        application = self._reloaded(application)
        application.client_secret = raw_secret
        return Response(
            OAuthApplicationWithSecretSerializer(application).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        partial = kwargs.get("partial", False)
        application = self.get_object()
        serializer = OAuthApplicationInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        extra = {}
        if "account" in data or not partial:
            extra["account_id"] = data.pop("account", None)
        owner = data.pop("user", None)
        application = services.oauth_application_update(
            application=application, data=data, user=owner, **extra
        )
        return Response(OAuthApplicationSerializer(self._reloaded(application)).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.oauth_application_delete(application=instance)

    @extend_schema(
        summary="Issue a new client secret (in this response only; the old one stops working)",
        request=None,
        responses={200: OAuthApplicationWithSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        application, raw_secret = services.oauth_application_rotate_secret(
            application=self.get_object()
        )
        application = self._reloaded(application)
        application.client_secret = raw_secret
        return Response(OAuthApplicationWithSecretSerializer(application).data)
