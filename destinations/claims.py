"""Claims: which due deliveries an engine takes next, in one batch, fairly across destinations.

A claim is one transaction: due pending logs (and logs whose previous holder's lease expired) are
selected `FOR UPDATE SKIP LOCKED`, so engines on other machines take other rows, then stamped
`in_progress` with a lease and the batch's `claim_token`. Only the token holder may record an
outcome, so a log taken over after its lease expired is never finished twice.

Isolation: a destination never holds more than `DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION` claims at
once (one while its circuit breaker is half-open, none while it is open). Destinations at their cap
are left out of the query itself, so a destination with a long backlog cannot crowd the others out
of a batch.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from destinations.models import DeliveryLog, Destination

Status = DeliveryLog.Status
# Rows looked at per free slot: room for the per-destination cap to skip some.
CANDIDATES_PER_SLOT = 4


@dataclass(frozen=True)
class DeliveryJob:
    """Everything one attempt needs, so the HTTP call runs without touching the database."""

    log_id: int
    claim_token: uuid.UUID
    attempt_number: int  # of the log, ever (monotonic)
    round_attempt: int  # within the current round of the retry schedule, 1-based
    account_id: int
    received_timestamp: datetime
    msg_id: str
    event_type: str
    body: str
    destination_id: int
    destination_active: bool
    method: str
    url: str
    headers: dict
    signing_secrets: tuple[str, ...]


def _locked(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def _caps(*, now) -> tuple[dict[int, int], set[int]]:
    """(free slots of each busy or tripped destination, destinations to leave out)."""
    cap = settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION
    in_flight = dict(
        DeliveryLog.objects.filter(status=Status.IN_PROGRESS, claimed_until__gte=now)
        .values("destination_id")
        .annotate(n=Count("id"))
        .values_list("destination_id", "n")
    )
    tripped = dict(
        Destination.objects.filter(breaker_trips__gt=0).values_list("id", "breaker_open_until")
    )
    free: dict[int, int] = {}
    for destination_id in in_flight.keys() | tripped.keys():
        open_until = tripped.get(destination_id)
        if open_until is not None and open_until > now:
            free[destination_id] = 0  # open: paused
        else:
            limit = 1 if destination_id in tripped else cap  # half-open: one probe
            free[destination_id] = max(limit - in_flight.get(destination_id, 0), 0)
    return free, {d for d, n in free.items() if n <= 0}


def deliveries_claim(*, limit: int, log_ids: list[int] | None = None) -> list[DeliveryJob]:
    """Claims up to `limit` due deliveries for this engine; returns their jobs."""
    if limit <= 0:
        return []
    now = timezone.now()
    cap = settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION
    token = uuid.uuid4()
    with transaction.atomic():
        free, excluded = _caps(now=now)
        claimable = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
            status=Status.IN_PROGRESS, claimed_until__lt=now
        )
        base = DeliveryLog.objects.exclude(destination_id__in=excluded)
        if log_ids is not None:
            base = base.filter(pk__in=log_ids)
        window = limit * CANDIDATES_PER_SLOT
        # Two index-backed queries (expired leases first: they have waited longest).
        candidates = list(
            _locked(base.filter(status=Status.IN_PROGRESS, claimed_until__lt=now))
            .order_by("claimed_until")
            .values_list("id", "destination_id")[:window]
        )
        candidates += (
            _locked(base.filter(status=Status.PENDING, next_attempt_at__lte=now))
            .order_by("next_attempt_at", "id")
            .values_list("id", "destination_id")[: max(window - len(candidates), 0)]
        )
        picked: list[int] = []
        for log_id, destination_id in candidates:
            room = free.get(destination_id, cap)
            if room <= 0:
                continue
            free[destination_id] = room - 1
            picked.append(log_id)
            if len(picked) >= limit:
                break
        if not picked:
            return []
        # The condition repeats the claimable test: without row locks (SQLite) another engine
        # may have taken a row since the select; the token tells which rows are ours.
        DeliveryLog.objects.filter(claimable, pk__in=picked).update(
            status=Status.IN_PROGRESS,
            claimed_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
            claim_token=token,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        rows = (
            DeliveryLog.objects.filter(claim_token=token, status=Status.IN_PROGRESS)
            .select_related("event", "destination")
            .order_by("id")
        )
        return [_job(log, token) for log in rows]


def _job(log: DeliveryLog, token: uuid.UUID) -> DeliveryJob:
    destination = log.destination
    return DeliveryJob(
        log_id=log.pk,
        claim_token=token,
        attempt_number=log.attempts,
        round_attempt=log.attempts - log.round_start_attempts,
        account_id=log.account_id,
        received_timestamp=log.received_timestamp,
        msg_id=log.event.event_id,
        event_type=log.event.event_type,
        body=log.event.body,
        destination_id=destination.pk,
        destination_active=destination.is_active,
        method=destination.http_method,
        url=destination.url,
        headers=dict(destination.headers or {}),
        signing_secrets=(destination.signing_secret,),
    )
