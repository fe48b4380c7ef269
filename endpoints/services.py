"""Writes of this app: API keys (create, update, regenerate, touch) and scheduled tasks
(create, update, cancel, dispatch, claim-and-run, reap, purge)."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import serializers

from accounts.selectors import membership_get
from backend.common.exceptions import Conflict
from backend.common.resilience import BrokerUnavailable, publish
from endpoints.metrics import SCHEDULED_TASK_OUTCOMES
from endpoints.models import ApiKey, ScheduledTask, generate_api_key
from endpoints.task_types import get_task_type, parameters_size_error
from users.models import User

# django-oauth-toolkit ships no types: its (swappable) Application model is Any to mypy.
OAuthApplication = Any

logger = logging.getLogger(__name__)

RUN_TASK_NAME = "endpoints.run_scheduled_task"
RATE_PATTERN = re.compile(r"^[1-9]\d{0,6}/(s|sec|second|m|min|minute|h|hour|d|day)$")
MAX_GRACE_PERIOD_SECONDS = 7 * 24 * 3600


# --- API keys -------------------------------------------------------------------------------------


def validate_rate_limit(value: str) -> str:
    """A DRF rate such as "100/minute" (or empty for the default); ValidationError otherwise."""
    value = (value or "").strip()
    if value and not RATE_PATTERN.match(value):
        raise serializers.ValidationError(
            'Use "<number>/<second|minute|hour|day>", for example "100/minute".'
        )
    return value


def _check_account(*, user: User, account_id: int | None) -> None:
    # Same answer for "no such account" and "not a member": existence is not revealed.
    if account_id is not None and membership_get(user=user, account_id=account_id) is None:
        raise serializers.ValidationError({"account": ["You are not a member of this account."]})


def _new_key_material() -> tuple[str, str, str]:
    for _ in range(5):
        raw, prefix, key_hash = generate_api_key()
        taken = ApiKey.objects.filter(Q(prefix=prefix) | Q(previous_prefix=prefix)).exists()
        if not taken:
            return raw, prefix, key_hash
    raise RuntimeError("Could not find a free API key prefix.")  # 40 random bits: never


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    account_id: int | None = None,
    scopes: list[str] | None = None,
    rate_limit: str = "",
    is_active: bool = True,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Creates a key for `user`; returns it with the raw key, which is never stored or shown again."""
    _check_account(user=user, account_id=account_id)
    raw, prefix, key_hash = _new_key_material()
    api_key = ApiKey(
        user=user,
        name=name,
        account_id=account_id,
        scopes=sorted(set(scopes)) if scopes else ApiKey.default_scopes(),
        rate_limit=validate_rate_limit(rate_limit),
        is_active=is_active,
        expires_at=expires_at,
        prefix=prefix,
        key_hash=key_hash,
    )
    api_key.full_clean()
    api_key.save()
    return api_key, raw


API_KEY_UPDATABLE = ("name", "account_id", "scopes", "rate_limit", "is_active", "expires_at")


@transaction.atomic
def api_key_update(*, api_key: ApiKey, data: dict[str, Any]) -> ApiKey:
    """Updates the given fields (a subset of API_KEY_UPDATABLE)."""
    if "account_id" in data:
        _check_account(user=api_key.user, account_id=data["account_id"])
    for field in API_KEY_UPDATABLE:
        if field in data:
            value = data[field]
            if field == "scopes":
                value = sorted(set(value))
            elif field == "rate_limit":
                value = validate_rate_limit(value)
            setattr(api_key, field, value)
    api_key.full_clean()
    api_key.save()
    return api_key


@transaction.atomic
def api_key_regenerate(*, api_key: ApiKey, grace_period_seconds: int = 0) -> tuple[ApiKey, str]:
    """New prefix and secret. The old key stops working at once, or after the grace period."""
    if not 0 <= grace_period_seconds <= MAX_GRACE_PERIOD_SECONDS:
        raise serializers.ValidationError(
            {"grace_period_seconds": [f"Must be between 0 and {MAX_GRACE_PERIOD_SECONDS}."]}
        )
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    raw, prefix, key_hash = _new_key_material()
    if grace_period_seconds:
        api_key.previous_prefix = api_key.prefix
        api_key.previous_key_hash = api_key.key_hash
        api_key.previous_expires_at = timezone.now() + timedelta(seconds=grace_period_seconds)
    else:
        api_key.previous_prefix = ""
        api_key.previous_key_hash = ""
        api_key.previous_expires_at = None
    api_key.prefix = prefix
    api_key.key_hash = key_hash
    api_key.save()
    return api_key, raw


@transaction.atomic
def api_key_delete(*, api_key: ApiKey) -> None:
    api_key.delete()


def api_key_touch(*, api_key: ApiKey) -> bool:
    """Records use of the key at most once per API_KEY_LAST_USED_INTERVAL_SECONDS.

    A cache `add` (one round-trip, shared by every process) decides who may write; the UPDATE is
    conditional as well, so a lost cache entry still writes at most once per interval.
    """
    interval = settings.API_KEY_LAST_USED_INTERVAL_SECONDS
    now = timezone.now()
    # The row was just loaded to authenticate: if it was touched recently, nothing to do, and
    # the cache round-trip is skipped on most requests.
    if api_key.last_used_at is not None and api_key.last_used_at > now - timedelta(
        seconds=interval
    ):
        return False
    try:
        if not cache.add(f"endpoints:api_key_touch:{api_key.pk}", 1, timeout=interval):
            return False
    except Exception:  # noqa: BLE001 - a cache outage must not fail authentication
        logger.warning("Cache unavailable for the API key last-used guard.")
    return bool(
        ApiKey.objects.filter(pk=api_key.pk)
        .filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(seconds=interval))
        )
        .update(last_used_at=now)
    )


# --- Scheduled tasks -----------------------------------------------------------------------------


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


# --- OAuth2 applications ----------------------------------------------------------------------------

OAUTH_APPLICATION_FIELDS = (
    "name",
    "client_type",
    "authorization_grant_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "allowed_origins",
    "skip_authorization",
)


def _oauth_bind_account(*, application: OAuthApplication, account_id: int | None) -> None:
    from accounts.models import Membership
    from endpoints.models import OAuthApplicationAccount

    if account_id is None:
        OAuthApplicationAccount.objects.filter(application=application).delete()
        return
    membership = membership_get(user=application.user, account_id=account_id)
    if membership is None or membership.role != Membership.Role.ADMIN:
        raise serializers.ValidationError(
            {"account": ["The application's user must be an Admin of this account."]}
        )
    OAuthApplicationAccount.objects.update_or_create(
        application=application, defaults={"account_id": account_id}
    )


def _oauth_new_client_secret() -> str:
    from oauth2_provider.generators import generate_client_secret

    return str(generate_client_secret())


@transaction.atomic
def oauth_application_create(
    *, user: User, data: dict[str, Any], account_id: int | None = None
) -> tuple[OAuthApplication, str]:
    """A new OAuth2 application owned by `user`; returns `(application, raw_client_secret)`.

    The secret is hashed on save (DOT), so this is the only time it can be shown.
    """
    from oauth2_provider.models import get_application_model

    application = get_application_model()(user=user, hash_client_secret=True)
    for field in OAUTH_APPLICATION_FIELDS:
        if field in data:
            setattr(application, field, data[field])
    raw_secret = _oauth_new_client_secret()
    application.client_secret = raw_secret
    application.full_clean()
    application.save()
    _oauth_bind_account(application=application, account_id=account_id)
    return application, raw_secret


_UNSET = object()


@transaction.atomic
def oauth_application_update(
    *,
    application: OAuthApplication,
    data: dict[str, Any],
    user: User | None = None,
    account_id: int | None | object = _UNSET,
) -> OAuthApplication:
    """Changes an application's settings, owner and/or account binding (re-checked)."""
    for field in OAUTH_APPLICATION_FIELDS:
        if field in data:
            setattr(application, field, data[field])
    if user is not None:
        application.user = user
    # The stored secret is a hash; full_clean must not re-validate it as a raw secret.
    application.full_clean(exclude=["client_secret"])
    application.save()
    if account_id is _UNSET:
        binding = getattr(application, "account_binding", None)
        account_id = binding.account_id if binding is not None else None
    _oauth_bind_account(application=application, account_id=cast("int | None", account_id))
    return application


@transaction.atomic
def oauth_application_rotate_secret(
    *, application: OAuthApplication
) -> tuple[OAuthApplication, str]:
    """A new client secret (returned once); the old one stops working at once."""
    raw_secret = _oauth_new_client_secret()
    application.client_secret = raw_secret
    application.save(update_fields=["client_secret", "updated"])
    return application, raw_secret


@transaction.atomic
def oauth_application_delete(*, application: OAuthApplication) -> None:
    """Deletes the application; its grants and tokens go with it (cascade)."""
    application.delete()
