"""Writes of the destinations app: destinations, and putting logs back in the queue.

The pipeline has rooms of its own: `ingest` (the request path), `fanout` (events → logs),
`claims` (which due logs an engine takes), `outcomes` (attempts and their results), `health`
(circuit breaker, auto-disable) and `engine` (the loop in each worker process that runs them).
A log in the queue is simply `pending` with `next_attempt_at` due: nothing here publishes.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import Account
from destinations.caching import logs_version_bump
from destinations.models import DeliveryLog, Destination, Event, generate_signing_secret
from destinations.pipeline.event_types import SYSTEM_TEST
from destinations.pipeline.ingest import new_event_id

logger = logging.getLogger(__name__)

Status = DeliveryLog.Status
UPDATABLE_FIELDS = (
    "url",
    "http_method",
    "headers",
    "is_active",
    "event_types",
    "filter",
    "rate_limit",
    "fifo",
)


# --- Destinations ---------------------------------------------------------------------------


@transaction.atomic
def destination_create(
    *,
    account: Account,
    user: Any,
    url: str,
    http_method: str = "POST",
    headers: dict[str, str] | None = None,
    is_active: bool = True,
    event_types: list[str] | None = None,
    filter: dict[str, Any] | None = None,  # noqa: A002 - the API field's name
    rate_limit: int | None = None,
    fifo: bool = False,
) -> Destination:
    destination = Destination(
        account=account,
        url=url,
        http_method=http_method,
        headers=headers or {},
        is_active=is_active,
        event_types=event_types or [],
        filter=filter,
        rate_limit=rate_limit,
        fifo=fifo,
        created_by=user,
        updated_by=user,
    )
    destination.full_clean()
    destination.save()
    return destination


@transaction.atomic
def destination_update(*, destination: Destination, user: Any, data: dict[str, Any]) -> Destination:
    """Applies the fields given; re-enabling re-queues the held logs."""
    destination = Destination.objects.select_for_update().get(pk=destination.pk)
    was_active, old_url = destination.is_active, destination.url
    for field in UPDATABLE_FIELDS:
        if field in data:
            setattr(destination, field, data[field])
    destination.updated_by = user
    if destination.is_active and not was_active:
        destination.disabled_reason = ""
        destination.disabled_at = None
        destination.consecutive_failures = 0
        destination.failing_since = None
        destination.breaker_failures = destination.breaker_trips = 0
        destination.breaker_open_until = None
    elif was_active and not destination.is_active:
        destination.disabled_reason = "Disabled by a user."
        destination.disabled_at = timezone.now()
    # The URL is vetted (DNS included) when it changes; delivery re-checks it on every send.
    destination.full_clean(exclude=None if destination.url != old_url else ["url"])
    destination.save()
    if was_active and not destination.is_active:
        hold_pending_logs(destination=destination)
    elif destination.is_active and not was_active:
        delivery_logs_requeue(
            logs=DeliveryLog.objects.filter(destination=destination, status=Status.HELD)
        )
    return destination


@transaction.atomic
def destination_delete(*, destination: Destination) -> None:
    account_id = destination.account_id
    destination.delete()
    transaction.on_commit(lambda: logs_version_bump(account_ids=[account_id]))


@transaction.atomic
def destination_rotate_secret(
    *, destination: Destination, user: Any, grace_seconds: int = 86400
) -> Destination:
    """A new signing secret; the old one keeps signing too for `grace_seconds` (0: stops now)."""
    destination = Destination.objects.select_for_update().get(pk=destination.pk)
    if grace_seconds > 0:
        destination.previous_signing_secret = destination.signing_secret
        destination.previous_secret_expires_at = timezone.now() + timedelta(seconds=grace_seconds)
    else:
        destination.previous_signing_secret = ""
        destination.previous_secret_expires_at = None
    destination.signing_secret = generate_signing_secret()
    destination.updated_by = user
    destination.save(
        update_fields=[
            "signing_secret",
            "previous_signing_secret",
            "previous_secret_expires_at",
            "updated_by",
            "updated_at",
        ]
    )
    return destination


def hold_pending_logs(*, destination: Destination) -> int:
    """Pending logs of a disabled destination wait as `held` (kept, not dropped)."""
    return DeliveryLog.objects.filter(destination=destination, status=Status.PENDING).update(
        status=Status.HELD, next_attempt_at=None, updated_at=timezone.now()
    )


# --- Re-queue: retry, replay, sweeper ----------------------------------------------------------


@transaction.atomic
def delivery_logs_requeue(*, logs: QuerySet[DeliveryLog]) -> int:
    """Puts failed/held logs back to pending, due now, for a fresh round of the retry schedule.

    Attempt numbers go on from where they were (monotonic per log). Only logs whose destination
    is active are re-queued; returns how many.
    """
    now = timezone.now()
    ids = list(
        logs.filter(status__in=[Status.FAILED, Status.HELD], destination__is_active=True)
        .order_by()
        .values_list("id", flat=True)
    )
    if not ids:
        return 0
    return DeliveryLog.objects.filter(pk__in=ids, status__in=[Status.FAILED, Status.HELD]).update(
        status=Status.PENDING,
        round_start_attempts=F("attempts"),
        next_attempt_at=now,
        claimed_until=None,
        claim_token=None,
        processed_timestamp=None,
        updated_at=now,
    )


def delivery_log_retry(*, log: DeliveryLog) -> DeliveryLog:
    """Re-queues one failed or held log (account Admin action)."""
    from backend.common.exceptions import Conflict

    if log.status not in (Status.FAILED, Status.HELD):
        raise Conflict(
            f'Only failed or held logs can be retried; this one is "{log.status}".',
            {"status": [f"Expected failed or held, got {log.status}."]},
        )
    if not log.destination.is_active:
        raise Conflict(
            "The destination is disabled: re-enable it first (its held logs are then re-queued).",
            {"destination_id": ["The destination is disabled."]},
        )
    delivery_logs_requeue(logs=DeliveryLog.objects.filter(pk=log.pk))
    log.refresh_from_db()
    return log


def delivery_logs_replay(
    *,
    account: Account,
    status: str,
    received_gte: datetime | None = None,
    received_lte: datetime | None = None,
    destination_id: int | None = None,
) -> int:
    logs = DeliveryLog.objects.filter(account=account, status=status)
    if received_gte is not None:
        logs = logs.filter(received_timestamp__gte=received_gte)
    if received_lte is not None:
        logs = logs.filter(received_timestamp__lte=received_lte)
    if destination_id is not None:
        logs = logs.filter(destination_id=destination_id)
    return delivery_logs_requeue(logs=logs)


class DestinationDisabled(Exception):
    """A test ping to a disabled destination: nothing would be sent."""


@transaction.atomic
def destination_test_ping(*, destination: Destination) -> DeliveryLog:
    """Stores a `system.test` event and its one log for `destination`, already fanned out (so it
    goes to that destination only); the delivery engines send it like any delivery."""
    destination = Destination.objects.select_for_update().get(pk=destination.pk)
    if not destination.is_active:
        raise DestinationDisabled
    now = timezone.now()
    event = Event(
        account_id=destination.account_id,
        event_id=new_event_id(),
        event_type=SYSTEM_TEST,
        received_at=now,
        fanned_out_at=now,
    )
    event.payload = {"destination_id": destination.pk, "sent_at": now.isoformat()}
    event.save(force_insert=True)
    log = DeliveryLog.objects.create(
        event=event,
        destination=destination,
        account_id=destination.account_id,
        status=Status.PENDING,
        next_attempt_at=now,
        received_timestamp=now,
    )
    return log
