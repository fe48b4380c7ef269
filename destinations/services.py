"""Writes of the destinations app: destinations, ingest, delivery, retries, replay, auto-disable.

Delivery is at-least-once and never loses an accepted event:
- ingest stores the event and its logs in one transaction and publishes after commit; a publish
  that fails (broker down) is left to the sweeper;
- a worker claims a log with a conditional UPDATE and a lease; a finished log is never sent again,
  a log whose worker died is handed out again by the sweeper when the lease expires;
- retries are scheduled in the database (`next_attempt_at`); only short delays use a countdown.
"""

import logging
import random
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account, Membership
from destinations import metrics
from destinations.caching import logs_version_bump
from destinations.models import (
    DeliveryAttempt,
    DeliveryLog,
    Destination,
    Event,
    generate_signing_secret,
)
from destinations.transports import HttpResult, send

logger = logging.getLogger(__name__)

DELIVER_TASK = "destinations.deliver"
RETRYABLE_STATUS_CODES = {408, 429}
CLAIM_SLACK = timedelta(seconds=1)  # a countdown may fire a hair early across clocks

Status = DeliveryLog.Status


# --- Destinations ---------------------------------------------------------------------------


@transaction.atomic
def destination_create(
    *, account: Account, user, url: str, http_method: str = "POST", headers=None, is_active=True
) -> Destination:
    destination = Destination(
        account=account,
        url=url,
        http_method=http_method,
        headers=headers or {},
        is_active=is_active,
        created_by=user,
        updated_by=user,
    )
    destination.full_clean()
    destination.save()
    return destination


@transaction.atomic
def destination_update(*, destination: Destination, user, data: dict) -> Destination:
    """Applies url/http_method/headers/is_active; re-enabling re-queues the held logs."""
    destination = Destination.objects.select_for_update().get(pk=destination.pk)
    was_active, old_url = destination.is_active, destination.url
    for field in ("url", "http_method", "headers", "is_active"):
        if field in data:
            setattr(destination, field, data[field])
    destination.updated_by = user
    if destination.is_active and not was_active:
        destination.disabled_reason = ""
        destination.disabled_at = None
        destination.consecutive_failures = 0
        destination.failing_since = None
    elif was_active and not destination.is_active:
        destination.disabled_reason = "Disabled by a user."
        destination.disabled_at = timezone.now()
    # The URL is vetted (DNS included) when it changes; delivery re-checks it on every send.
    destination.full_clean(exclude=None if destination.url != old_url else ["url"])
    destination.save()
    if was_active and not destination.is_active:
        _hold_pending_logs(destination=destination)
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
def destination_rotate_secret(*, destination: Destination, user) -> Destination:
    destination.signing_secret = generate_signing_secret()
    destination.updated_by = user
    destination.save(update_fields=["signing_secret", "updated_by", "updated_at"])
    return destination


def _hold_pending_logs(*, destination: Destination) -> int:
    count = DeliveryLog.objects.filter(destination=destination, status=Status.PENDING).update(
        status=Status.HELD, next_attempt_at=None, updated_at=timezone.now()
    )
    if count:
        account_id = destination.account_id
        transaction.on_commit(lambda: logs_version_bump(account_ids=[account_id]))
    return count


# --- Ingest --------------------------------------------------------------------------------------


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def event_ingest(*, account: Account, payload: dict, event_id: str | None = None):
    """Stores an event and one log per destination; returns (event, created).

    A repeated `event_id` returns the stored event with created=False and delivers nothing,
    even when two identical requests race (the unique constraint decides).
    """
    if event_id:
        existing = Event.objects.filter(account=account, event_id=event_id).first()
        if existing is not None:
            return existing, False
    try:
        event, log_ids = _event_store(account=account, payload=payload, event_id=event_id)
    except IntegrityError:
        if not event_id:
            raise
        return Event.objects.get(account=account, event_id=event_id), False
    return event, True


@transaction.atomic
def _event_store(*, account: Account, payload: dict, event_id: str | None):
    now = timezone.now()
    event = Event.objects.create(
        account=account, event_id=event_id or new_event_id(), payload=payload, received_at=now
    )
    logs = [
        DeliveryLog(
            event=event,
            destination_id=destination_id,
            account=account,
            status=Status.PENDING if is_active else Status.HELD,
            next_attempt_at=now if is_active else None,
            enqueued_at=now if is_active else None,
            received_timestamp=now,
        )
        for destination_id, is_active in Destination.objects.filter(account=account)
        .order_by("id")
        .values_list("id", "is_active")
    ]
    DeliveryLog.objects.bulk_create(logs)
    pending_ids = [log.pk for log in logs if log.status == Status.PENDING]
    if logs:
        transaction.on_commit(lambda: logs_version_bump(account_ids=[account.pk]))
    if pending_ids:
        transaction.on_commit(lambda: delivery_publish(log_ids=pending_ids))
    return event, pending_ids


def delivery_publish(*, log_ids, countdown: float | None = None) -> int:
    """Publishes delivery tasks; returns how many were published.

    When the broker is unreachable this logs and stops (each try would wait for the connect
    timeout): the logs' `enqueued_at` is cleared so the sweeper publishes them as soon as it can.
    """
    from destinations.tasks import deliver  # tasks imports services: import here

    published = 0
    for log_id in log_ids:
        try:
            deliver.apply_async(args=[log_id], countdown=countdown)
        except Exception:  # noqa: BLE001 - kombu raises various errors for a broker that is down
            remaining = list(log_ids)[published:]
            logger.warning(
                "Broker unavailable: %d delivery task(s) left to the sweeper.", len(remaining)
            )
            try:
                DeliveryLog.objects.filter(pk__in=remaining, status=Status.PENDING).update(
                    enqueued_at=None
                )
            except Exception:  # noqa: BLE001 - the sweeper still finds them after the requeue delay
                logger.exception("Could not mark unpublished deliveries for the sweeper.")
            return published
        published += 1
    return published


# --- Delivery --------------------------------------------------------------------------------------


def _claim(*, log_id: int, now) -> bool:
    """Takes the log for this worker if it is due or its previous worker's lease expired."""
    claimable = Q(status=Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + CLAIM_SLACK)
    ) | Q(status=Status.IN_PROGRESS, claimed_until__lt=now)
    return bool(
        DeliveryLog.objects.filter(claimable, pk=log_id).update(
            status=Status.IN_PROGRESS,
            claimed_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )


def retry_delay(*, attempt_number: int, retry_after: float | None = None) -> float:
    """Seconds before the attempt after `attempt_number` (1-based), jittered, Retry-After honoured."""
    schedule = settings.DELIVERY_RETRY_SCHEDULE
    step = float(schedule[min(attempt_number, len(schedule) - 1)])
    jitter = min(max(settings.DELIVERY_RETRY_JITTER, 0.0), 1.0)
    delay = step * (1 - jitter) + random.uniform(0, step * jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.DELIVERY_RETRY_AFTER_MAX_SECONDS))
    return delay


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds, from delta-seconds or an HTTP date; None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max((when - timezone.now()).total_seconds(), 0.0)


def classify(result: HttpResult) -> tuple[str, str]:
    """(outcome, error) of one attempt: outcome is success, retry or failed."""
    code = result.status_code
    if result.refused:
        return DeliveryAttempt.Outcome.FAILED, f"Refused by the SSRF guard: {result.error}"
    if code is None:
        return DeliveryAttempt.Outcome.RETRY, result.error or "No response."
    if 200 <= code < 300:
        return DeliveryAttempt.Outcome.SUCCESS, ""
    if 300 <= code < 400:
        return (
            DeliveryAttempt.Outcome.FAILED,
            f"HTTP {code}: redirects are not followed (destination URLs must answer directly).",
        )
    if code in RETRYABLE_STATUS_CODES or code >= 500:
        return DeliveryAttempt.Outcome.RETRY, f"HTTP {code}."
    if code == 410:
        return DeliveryAttempt.Outcome.FAILED, "HTTP 410 Gone: the destination was disabled."
    return DeliveryAttempt.Outcome.FAILED, f"HTTP {code}: not retried."


def delivery_attempt(*, log_id: int) -> str:
    """Makes one delivery attempt for the log if it can be claimed; returns a short outcome.

    Outcomes: skipped (not claimable: finished, not due, or another worker has it), held
    (destination disabled), success, retry, failed.
    """
    now = timezone.now()
    if not _claim(log_id=log_id, now=now):
        return "skipped"
    log = DeliveryLog.objects.select_related("event", "destination").get(pk=log_id)
    destination = log.destination
    attempt_number = log.attempts
    logs_version_bump(account_ids=[log.account_id])
    mine = DeliveryLog.objects.filter(pk=log_id, status=Status.IN_PROGRESS, attempts=attempt_number)

    if not destination.is_active:
        if mine.update(
            status=Status.HELD, claimed_until=None, next_attempt_at=None, updated_at=now
        ):
            metrics.DELIVERIES.labels("held").inc()
            logs_version_bump(account_ids=[log.account_id])
        return "held"

    started = timezone.now()
    clock = time.monotonic()
    result = send(
        method=destination.http_method,
        url=destination.url,
        headers=destination.headers,
        payload=log.event.payload,
        msg_id=log.event.event_id,
        timestamp=int(started.timestamp()),
        secret=destination.signing_secret,
    )
    duration = time.monotonic() - clock
    outcome, error = classify(result)
    if outcome == DeliveryAttempt.Outcome.RETRY and attempt_number >= len(
        settings.DELIVERY_RETRY_SCHEDULE
    ):
        outcome = DeliveryAttempt.Outcome.FAILED
        error = f"{error} Giving up after {attempt_number} attempts."
    metrics.DELIVERY_ATTEMPTS.labels(outcome).inc()
    metrics.ATTEMPT_DURATION.observe(duration)

    finished = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            log_id=log_id,
            attempt_number=attempt_number,
            started_at=started,
            duration_ms=int(duration * 1000),
            status_code=result.status_code,
            error=error[:2000],
            response_body=result.body,
            outcome=outcome,
        )
        common = {
            "last_status_code": result.status_code,
            "last_error": error[:2000],
            "claimed_until": None,
            "updated_at": finished,
        }
        if outcome == DeliveryAttempt.Outcome.RETRY:
            retry_after = parse_retry_after((result.headers or {}).get("Retry-After"))
            delay = retry_delay(attempt_number=attempt_number, retry_after=retry_after)
            short = delay <= settings.DELIVERY_COUNTDOWN_MAX_SECONDS
            updated = mine.update(
                status=Status.PENDING,
                next_attempt_at=finished + timedelta(seconds=delay),
                # A short retry is published now with a countdown; a long one is the sweeper's.
                enqueued_at=finished if short else None,
                **common,
            )
            if updated and short:
                transaction.on_commit(lambda: delivery_publish(log_ids=[log_id], countdown=delay))
        else:
            final = Status.SUCCESS if outcome == DeliveryAttempt.Outcome.SUCCESS else Status.FAILED
            updated = mine.update(
                status=final, next_attempt_at=None, processed_timestamp=finished, **common
            )
            if updated:
                metrics.DELIVERIES.labels(final).inc()
                metrics.DELIVERY_LATENCY.observe(
                    (finished - log.received_timestamp).total_seconds()
                )
        if updated:
            _track_destination_health(
                destination=destination,
                outcome=outcome,
                status_code=result.status_code,
                log_failed=outcome == DeliveryAttempt.Outcome.FAILED,
                now=finished,
            )
    if not updated:
        # The lease expired and another worker took the log over; its result stands.
        return "skipped"
    logs_version_bump(account_ids=[log.account_id])
    return str(outcome)


# --- Destination health, auto-disable ----------------------------------------------------------


def _track_destination_health(
    *, destination: Destination, outcome: str, status_code: int | None, log_failed: bool, now
) -> None:
    if outcome == DeliveryAttempt.Outcome.SUCCESS:
        # Only write when there is something to reset: most deliveries succeed.
        if destination.consecutive_failures or destination.failing_since:
            Destination.objects.filter(pk=destination.pk).update(
                consecutive_failures=0, failing_since=None
            )
        return
    if status_code == 410:
        destination_disable(
            destination_id=destination.pk,
            reason="The destination answered 410 Gone.",
        )
        return
    if destination.failing_since is None:
        Destination.objects.filter(pk=destination.pk, failing_since__isnull=True).update(
            failing_since=now
        )
    if log_failed:
        Destination.objects.filter(pk=destination.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
    current = Destination.objects.filter(pk=destination.pk).values(
        "failing_since", "consecutive_failures", "is_active"
    )[0]
    if not current["is_active"]:
        return
    failing_for = (now - (current["failing_since"] or now)).total_seconds()
    threshold = settings.DESTINATION_DISABLE_AFTER_FAILED_LOGS
    if failing_for >= settings.DESTINATION_DISABLE_AFTER_SECONDS:
        days = settings.DESTINATION_DISABLE_AFTER_SECONDS / 86400
        destination_disable(
            destination_id=destination.pk,
            reason=f"Every delivery attempt failed for {days:g} day(s).",
        )
    elif threshold and current["consecutive_failures"] >= threshold:
        destination_disable(
            destination_id=destination.pk,
            reason=f"{current['consecutive_failures']} deliveries in a row failed.",
        )


@transaction.atomic
def destination_disable(*, destination_id: int, reason: str) -> bool:
    """Disables an active destination, holds its pending logs and emails the account's admins."""
    now = timezone.now()
    changed = Destination.objects.filter(pk=destination_id, is_active=True).update(
        is_active=False, disabled_reason=reason[:255], disabled_at=now, updated_at=now
    )
    if not changed:
        return False
    destination = Destination.objects.get(pk=destination_id)
    _hold_pending_logs(destination=destination)
    logger.warning("Destination %s disabled: %s", destination_id, reason)
    transaction.on_commit(
        lambda: destination_notify_disabled(destination_id=destination_id, reason=reason)
    )
    return True


def destination_notify_disabled(*, destination_id: int, reason: str) -> None:
    """Emails the account's admins that a destination was disabled. Mail trouble is logged only."""
    destination = Destination.objects.select_related("account").filter(pk=destination_id).first()
    if destination is None:
        return
    recipients = list(
        Membership.objects.filter(
            account_id=destination.account_id, role=Membership.Role.ADMIN, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return
    subject = f"Destination disabled: {destination.url}"[:200]
    message = (
        f"The destination {destination.url} (id {destination.pk}) of the account "
        f'"{destination.account.name}" was disabled.\n\nReason: {reason}\n\n'
        "Events for it are kept (status held). Re-enable it (PATCH is_active=true) to deliver "
        "them, or replay them in bulk."
    )
    try:
        send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # noqa: BLE001 - the destination stays disabled; the email is best effort
        logger.exception("Could not email the admins about disabled destination %s", destination_id)


# --- Re-queue: retry, replay, sweeper ----------------------------------------------------------


@transaction.atomic
def delivery_logs_requeue(*, logs) -> int:
    """Puts failed/held logs back to pending (a fresh round of attempts) and publishes them.

    Only logs whose destination is active are re-queued; returns how many.
    """
    now = timezone.now()
    ids = list(
        logs.filter(status__in=[Status.FAILED, Status.HELD], destination__is_active=True)
        .order_by()
        .values_list("id", flat=True)
    )
    if not ids:
        return 0
    count = DeliveryLog.objects.filter(pk__in=ids, status__in=[Status.FAILED, Status.HELD]).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=now,
        enqueued_at=now,
        claimed_until=None,
        processed_timestamp=None,
        updated_at=now,
    )
    account_ids = set(DeliveryLog.objects.filter(pk__in=ids).values_list("account_id", flat=True))
    transaction.on_commit(lambda: logs_version_bump(account_ids=account_ids))
    transaction.on_commit(lambda: delivery_publish(log_ids=ids))
    return count


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
    received_gte=None,
    received_lte=None,
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


def deliveries_sweep(*, now=None, batch: int | None = None) -> int:
    """Publishes due pending logs not published recently, and logs whose worker's lease expired.

    This is what makes a dead broker or a killed worker lose nothing. Bounded per run.
    """
    now = now or timezone.now()
    batch = batch or settings.DELIVERY_SWEEP_BATCH
    stale = now - timedelta(seconds=settings.DELIVERY_REQUEUE_AFTER_SECONDS)
    not_recent = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)
    due = list(
        DeliveryLog.objects.filter(not_recent, status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:batch]
    )
    expired = list(
        DeliveryLog.objects.filter(not_recent, status=Status.IN_PROGRESS, claimed_until__lt=now)
        .order_by("claimed_until")
        .values_list("id", flat=True)[: max(batch - len(due), 0)]
    )
    ids = due + expired
    if not ids:
        return 0
    DeliveryLog.objects.filter(pk__in=ids).update(enqueued_at=now)
    published = delivery_publish(log_ids=ids)
    if published:
        logger.info("Sweeper published %d delivery task(s).", published)
    return published
