"""Destination health: the circuit breaker (isolation) and auto-disable (a destination gone bad).

Circuit breaker (SPEC section 11): `DELIVERY_BREAKER_THRESHOLD` failed attempts in a row (no
answer, 408, 429 or 5xx) open it: the destination's deliveries pause for a cooling period that
doubles with each trip in a row (`DELIVERY_BREAKER_COOLING_SECONDS`, at most
`DELIVERY_BREAKER_MAX_COOLING_SECONDS`). After it, the destination is half-open: the claims let one
probe through; a success closes the breaker, a failure of that probe reopens it (one doubling per
failed probe). Failures of calls claimed before the trip (stragglers of the burst that tripped it)
count for nothing more. Paused logs stay pending.

Auto-disable: 410 Gone, or every attempt failing for `DESTINATION_DISABLE_AFTER_SECONDS` (or
`DESTINATION_DISABLE_AFTER_FAILED_LOGS` logs failing in a row), disables the destination, holds its
pending logs and emails the account's Admins.
"""

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Membership
from destinations.models import DeliveryAttempt, Destination
from destinations.pipeline.event_types import SYSTEM_DESTINATION_DISABLED
from destinations.pipeline.ingest import system_event_emit
from destinations.services import hold_pending_logs

if TYPE_CHECKING:  # outcomes imports this module
    from destinations.pipeline.outcomes import AttemptResult

logger = logging.getLogger(__name__)


def trips_breaker(status_code: int | None) -> bool:
    """A failure that says the destination is unwell (slow, down, overloaded), not a refusal."""
    return status_code is None or status_code >= 500 or status_code in (408, 429)


def breaker_cooling(trips: int) -> float:
    base = settings.DELIVERY_BREAKER_COOLING_SECONDS
    cooling = float(base) * 2 ** max(trips - 1, 0)
    return float(min(cooling, float(settings.DELIVERY_BREAKER_MAX_COOLING_SECONDS)))


def destinations_health_record(*, results: "list[AttemptResult]", now: datetime) -> None:
    """Applies a batch of recorded attempts to their destinations' health."""
    succeeded = {
        r.job.destination_id for r in results if r.outcome == DeliveryAttempt.Outcome.SUCCESS
    }
    if succeeded:
        # Only rows with something to reset are written: most deliveries succeed.
        Destination.objects.filter(pk__in=succeeded).filter(
            Q(consecutive_failures__gt=0)
            | Q(failing_since__isnull=False)
            | Q(breaker_failures__gt=0)
            | Q(breaker_trips__gt=0)
        ).update(
            consecutive_failures=0,
            failing_since=None,
            breaker_failures=0,
            breaker_trips=0,
            breaker_open_until=None,
        )
    failures: dict[int, list[AttemptResult]] = {}
    for r in results:
        if r.outcome != DeliveryAttempt.Outcome.SUCCESS and r.job.destination_id not in succeeded:
            failures.setdefault(r.job.destination_id, []).append(r)
    for destination_id, failed in failures.items():
        _record_failures(destination_id=destination_id, failed=failed, now=now)


def _record_failures(*, destination_id: int, failed: "list[AttemptResult]", now: datetime) -> None:
    if any(r.status_code == 410 for r in failed):
        destination_disable(
            destination_id=destination_id, reason="The destination answered 410 Gone."
        )
        return
    destination = Destination.objects.select_for_update().filter(pk=destination_id).first()
    if destination is None or not destination.is_active:
        return
    updates: dict[str, Any] = {}
    unwell = [r for r in failed if trips_breaker(r.status_code)]
    if destination.breaker_trips > 0:
        # Tripped: only a probe (claimed once the cooling ended) may reopen it. Calls claimed
        # before the trip that come back failed later are what tripped it: nothing more.
        opened_until = destination.breaker_open_until
        probes = [r for r in unwell if opened_until is None or r.job.claimed_at >= opened_until]
        if probes:
            updates.update(_trip(destination_id, destination.breaker_trips + 1, len(probes), now))
    elif unwell:
        failures = destination.breaker_failures + len(unwell)
        if failures >= settings.DELIVERY_BREAKER_THRESHOLD:
            updates.update(_trip(destination_id, 1, failures, now))
        else:
            updates["breaker_failures"] = failures
    failing_since = destination.failing_since or now
    if destination.failing_since is None:
        updates["failing_since"] = now
    failed_logs = sum(1 for r in failed if r.outcome == DeliveryAttempt.Outcome.FAILED)
    consecutive = destination.consecutive_failures + failed_logs
    if failed_logs:
        updates["consecutive_failures"] = F("consecutive_failures") + failed_logs
    if updates:
        Destination.objects.filter(pk=destination_id).update(**updates)
    threshold = settings.DESTINATION_DISABLE_AFTER_FAILED_LOGS
    if (now - failing_since).total_seconds() >= settings.DESTINATION_DISABLE_AFTER_SECONDS:
        days = settings.DESTINATION_DISABLE_AFTER_SECONDS / 86400
        destination_disable(
            destination_id=destination_id,
            reason=f"Every delivery attempt failed for {days:g} day(s).",
        )
    elif threshold and consecutive >= threshold:
        destination_disable(
            destination_id=destination_id, reason=f"{consecutive} deliveries in a row failed."
        )


def _trip(destination_id: int, trips: int, failures: int, now: datetime) -> dict[str, Any]:
    cooling = breaker_cooling(trips)
    logger.warning(
        "Destination %s: circuit open for %.0fs after %d failure(s).",
        destination_id,
        cooling,
        failures,
    )
    return {
        "breaker_trips": trips,
        "breaker_failures": 0,
        "breaker_open_until": now + timedelta(seconds=cooling),
    }


@transaction.atomic
def destination_disable(*, destination_id: int, reason: str) -> bool:
    """Disables an active destination (automatically): holds its pending logs, emits
    `system.destination.disabled` and emails the account's admins."""
    now = timezone.now()
    changed = Destination.objects.filter(pk=destination_id, is_active=True).update(
        is_active=False, disabled_reason=reason[:255], disabled_at=now, updated_at=now
    )
    if not changed:
        return False
    destination = Destination.objects.get(pk=destination_id)
    hold_pending_logs(destination=destination)
    system_event_emit(
        account_id=destination.account_id,
        event_type=SYSTEM_DESTINATION_DISABLED,
        payload={
            "destination_id": destination.pk,
            "url": destination.url,
            "reason": reason,
            "disabled_at": now.isoformat(),
        },
        about_destination_id=destination.pk,
    )
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
