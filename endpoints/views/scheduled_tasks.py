"""Scheduled tasks: the canonical CRUD, status and cancel, and seed 002's `POST /tasks/`."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.filters import StrictFilterSet, TextFilter
from backend.common.throttling import UserRateThrottle
from endpoints import selectors, services
from endpoints.models import ScheduledTask
from endpoints.permissions import ApiKeyScopePermission
from endpoints.serializers import (
    CeleryStyleTaskSerializer,
    ScheduledTaskCancelledSerializer,
    ScheduledTaskInputSerializer,
    ScheduledTaskSerializer,
    ScheduledTaskStatusSerializer,
)
from endpoints.task_types import task_type_names
from endpoints.throttling import AnonTasksRateThrottle, ApiKeyRateThrottle


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
