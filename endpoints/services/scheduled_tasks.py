"""Writes of scheduled tasks: create, update, cancel, delete, dispatch, claim-and-run, reap, purge."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import serializers

from backend.common.exceptions import Conflict
from backend.common.resilience import BrokerUnavailable, publish
from endpoints.metrics import SCHEDULED_TASK_OUTCOMES
from endpoints.models import ScheduledTask
from endpoints.task_types import get_task_type, parameters_size_error
from users.models import User

logger = logging.getLogger(__name__)

RUN_TASK_NAME = "endpoints.run_scheduled_task"


def scheduled_task_validate_parameters(*, task_type: str, parameters: Any) -> dict[str, Any]:
    """Validated parameters for the type; ValidationError naming `task_type` or the parameters."""
    registered = get_task_type(task_type)
    if registered is None:
        raise serializers.ValidationError({"task_type": [f'Unknown task type "{task_type}".']})
    if not isinstance(parameters, dict):
        raise serializers.ValidationError({"parameters": ["Must be a JSON object."]})
    size_error = parameters_size_error(parameters)
    if size_error:
        raise serializers.ValidationError({"parameters": [size_error]})
    serializer = registered.parameters_serializer(data=parameters)
    if not serializer.is_valid():
        raise serializers.ValidationError({"parameters": serializer.errors})
    return dict(serializer.validated_data)


def _enqueue_after_commit_if_due(task: ScheduledTask) -> None:
    if task.scheduled_at <= timezone.now():
        transaction.on_commit(partial(scheduled_task_enqueue, task_id=task.pk))


@transaction.atomic
def scheduled_task_create(
    *,
    owner: User,
    name: str,
    task_type: str = ScheduledTask.DEFAULT_TASK_TYPE,
    parameters: dict[str, Any] | None = None,
    scheduled_at: datetime | None = None,
) -> ScheduledTask:
    """Stores a pending task. A task due now is sent right after commit; otherwise (or if the
    broker is down) the dispatcher sends it when due."""
    params = scheduled_task_validate_parameters(task_type=task_type, parameters=parameters or {})
    task = ScheduledTask(
        owner=owner,
        name=name,
        task_type=task_type,
        parameters=params,
        scheduled_at=scheduled_at or timezone.now(),
    )
    task.full_clean()
    task.save()
    _enqueue_after_commit_if_due(task)
    return task


@transaction.atomic
def scheduled_task_update(*, task: ScheduledTask, data: dict[str, Any]) -> ScheduledTask:
    """Changes name, type, parameters or time of a task that is still pending (409 otherwise)."""
    # The row lock makes a concurrent claim wait, so it runs the updated version or none.
    task = ScheduledTask.objects.select_for_update().get(pk=task.pk)
    if task.status != ScheduledTask.Status.PENDING:
        raise Conflict(f"Only a pending task can be changed; this task is {task.status}.")
    task_type = data.get("task_type", task.task_type)
    if "task_type" in data or "parameters" in data:
        task.parameters = scheduled_task_validate_parameters(
            task_type=task_type, parameters=data.get("parameters", task.parameters)
        )
        task.task_type = task_type
    if "name" in data:
        task.name = data["name"]
    if "scheduled_at" in data:
        task.scheduled_at = data["scheduled_at"] or timezone.now()
        task.dispatched_at = None
    task.full_clean()
    task.save()
    _enqueue_after_commit_if_due(task)
    return task


def scheduled_task_cancel(*, task: ScheduledTask) -> ScheduledTask:
    """pending → cancelled in one conditional UPDATE: a cancelled task can never be claimed."""
    now = timezone.now()
    cancelled = ScheduledTask.objects.filter(
        pk=task.pk, status=ScheduledTask.Status.PENDING
    ).update(status=ScheduledTask.Status.CANCELLED, completed_at=now, updated_at=now)
    task.refresh_from_db()
    if not cancelled:
        raise Conflict(f"Only a pending task can be cancelled; this task is {task.status}.")
    SCHEDULED_TASK_OUTCOMES.labels(task.task_type, ScheduledTask.Status.CANCELLED).inc()
    return task


@transaction.atomic
def scheduled_task_delete(*, task: ScheduledTask) -> None:
    """Deletes the task, cancelling it first if it is pending so that no worker picks it up."""
    ScheduledTask.objects.filter(pk=task.pk, status=ScheduledTask.Status.PENDING).update(
        status=ScheduledTask.Status.CANCELLED, updated_at=timezone.now()
    )
    ScheduledTask.objects.filter(pk=task.pk).delete()


def scheduled_task_enqueue(*, task_id: uuid.UUID | str) -> bool:
    """Sends `run_scheduled_task` for a due pending task not sent recently; True if sent.

    The conditional UPDATE of `dispatched_at` makes concurrent dispatchers send it once. If the
    broker refuses the message, `dispatched_at` is cleared so the next dispatcher tick retries.
    """
    now = timezone.now()
    resend_before = now - timedelta(seconds=settings.TASK_REDISPATCH_AFTER_SECONDS)
    marked = (
        ScheduledTask.objects.filter(
            pk=task_id, status=ScheduledTask.Status.PENDING, scheduled_at__lte=now
        )
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=resend_before))
        .update(dispatched_at=now)
    )
    if not marked:
        return False
    try:
        publish(RUN_TASK_NAME, args=[str(task_id)])
    except BrokerUnavailable:  # broker down: the dispatcher sends it later
        logger.warning("Could not enqueue scheduled task %s; the dispatcher will retry.", task_id)
        ScheduledTask.objects.filter(pk=task_id, dispatched_at=now).update(dispatched_at=None)
        return False
    return True


def scheduled_task_dispatch_due(*, limit: int = 500) -> int:
    """Enqueues due pending tasks (oldest due first); returns how many were sent."""
    now = timezone.now()
    resend_before = now - timedelta(seconds=settings.TASK_REDISPATCH_AFTER_SECONDS)
    due_ids = list(
        ScheduledTask.objects.filter(status=ScheduledTask.Status.PENDING, scheduled_at__lte=now)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=resend_before))
        .order_by("scheduled_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(scheduled_task_enqueue(task_id=task_id) for task_id in due_ids)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def scheduled_task_run(*, task_id: uuid.UUID | str, celery_task_id: str = "") -> str:
    """Claims the task (pending → running, only if due) and runs it; returns the outcome:
    "skipped" (not claimable: already run, running, cancelled, deleted or not due), "completed"
    or "failed". The work itself runs outside any transaction."""
    now = timezone.now()
    claimed = ScheduledTask.objects.filter(
        pk=task_id, status=ScheduledTask.Status.PENDING, scheduled_at__lte=now
    ).update(
        status=ScheduledTask.Status.RUNNING,
        started_at=now,
        attempts=F("attempts") + 1,
        celery_task_id=celery_task_id,
        updated_at=now,
    )
    if not claimed:
        return "skipped"
    task = ScheduledTask.objects.get(pk=task_id)
    running = ScheduledTask.objects.filter(pk=task_id, status=ScheduledTask.Status.RUNNING)

    def progress(value: dict[str, Any]) -> None:
        running.update(result=value, updated_at=timezone.now())

    registered = get_task_type(task.task_type)
    try:
        if registered is None:
            raise LookupError(f'Task type "{task.task_type}" is not registered.')
        result = registered.function(task.parameters, progress)
    except Exception as exc:  # noqa: BLE001 - any failure of the work is the task's failure
        logger.info("Scheduled task %s failed: %s", task_id, type(exc).__name__)
        running.update(
            status=ScheduledTask.Status.FAILED,
            error_message=_error_text(exc),
            completed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        SCHEDULED_TASK_OUTCOMES.labels(task.task_type, ScheduledTask.Status.FAILED).inc()
        return "failed"
    running.update(
        status=ScheduledTask.Status.COMPLETED,
        result=result,
        completed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    SCHEDULED_TASK_OUTCOMES.labels(task.task_type, ScheduledTask.Status.COMPLETED).inc()
    return "completed"


WORKER_LOST = "worker lost"


def scheduled_task_reap_stuck(*, now: datetime | None = None) -> int:
    """Marks tasks running longer than the hard time limit + margin as failed ("worker lost")."""
    now = now or timezone.now()
    cutoff = now - timedelta(
        seconds=settings.CELERY_TASK_TIME_LIMIT + settings.TASK_STUCK_MARGIN_SECONDS
    )
    stuck = ScheduledTask.objects.filter(status=ScheduledTask.Status.RUNNING, started_at__lt=cutoff)
    reaped = 0
    for task_id, task_type in stuck.values_list("pk", "task_type"):
        if ScheduledTask.objects.filter(pk=task_id, status=ScheduledTask.Status.RUNNING).update(
            status=ScheduledTask.Status.FAILED,
            error_message=WORKER_LOST,
            completed_at=now,
            updated_at=now,
        ):
            SCHEDULED_TASK_OUTCOMES.labels(task_type, ScheduledTask.Status.FAILED).inc()
            reaped += 1
    return reaped


def scheduled_task_purge_finished(*, now: datetime | None = None) -> int:
    """Deletes completed/failed/cancelled tasks untouched for TASK_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TASK_RETENTION_DAYS)
    deleted, _ = ScheduledTask.objects.filter(
        status__in=ScheduledTask.FINISHED, updated_at__lt=cutoff
    ).delete()
    return deleted
