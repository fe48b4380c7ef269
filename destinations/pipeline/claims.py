"""Claims: which due deliveries an engine takes next, in one batch, fairly across destinations.

A claim is one transaction: due pending logs (and logs whose previous holder's lease expired) are
selected `FOR UPDATE SKIP LOCKED`, so engines on other machines take other rows, then stamped
`in_progress` with a lease and the batch's `claim_token`. Only the token holder may record an
outcome, so a log taken over after its lease expired is never finished twice.

Isolation: a destination never holds more than `DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION` claims at
once (one while its circuit breaker is half-open, none while it is open). Destinations at their cap
are left out of the query itself, so a destination with a long backlog cannot crowd the others out
of a batch.

Delivery controls (SPEC section 11), shared by every engine on every machine through the database:
a destination with a `rate_limit` or `fifo` is claimed for only by the engine that holds its row
lock in that turn (the others skip it). Its `rate_window_*` columns count the claims of the
current second; a FIFO destination gets one claim at a time, always its oldest unfinished log,
and only when that log is due (a retry waiting holds back the later ones).
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from backend.common.db import skip_locked
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
    headers: dict[str, str]
    signing_secrets: tuple[str, ...]
    traceparent: str | None = None  # tracing hook: the event's trace context (Event.traceparent)


def _caps(*, now: datetime) -> tuple[dict[int, int], set[int]]:
    """(free slots of each busy or tripped destination, destinations to leave out of the main
    query)."""
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


def _controlled(
    *, now: datetime, free: dict[int, int], excluded: set[int]
) -> tuple[list[Mapping[str, Any]], list[int]]:
    """Locks the rate-limited and FIFO destinations this engine may claim for in this turn.

    Returns their rows (those locked) and the FIFO ones; `free` is lowered to each rate limit's
    remainder and `excluded` gains every controlled destination (the main query leaves them out;
    rate-limited ones come back through `free` in the candidate filter below).
    """
    controlled = Destination.objects.filter(is_active=True).filter(
        Q(fifo=True) | Q(rate_limit__isnull=False)
    )
    all_ids = set(controlled.values_list("id", flat=True))
    if not all_ids:
        return [], []
    rows: list[Mapping[str, Any]] = list(
        skip_locked(controlled).values(
            "id", "fifo", "rate_limit", "rate_window_start", "rate_window_count"
        )
    )
    excluded |= all_ids
    window_start = now - timedelta(seconds=1)
    for row in rows:
        room = free.get(row["id"], settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION)
        if row["fifo"]:
            room = min(room, 1)
        if row["rate_limit"] is not None:
            used = row["rate_window_count"] if _in_window(row, window_start) else 0
            room = min(room, row["rate_limit"] - used)
        free[row["id"]] = max(room, 0)
    return rows, [row["id"] for row in rows if row["fifo"] and free[row["id"]] > 0]


def _in_window(row: Mapping[str, Any], window_start: datetime) -> bool:
    return row["rate_window_start"] is not None and row["rate_window_start"] > window_start


def _fifo_heads(
    *, fifo_ids: list[int], now: datetime, log_ids: list[int] | None
) -> list[tuple[int, int]]:
    """The oldest unfinished log of each FIFO destination, when it can be claimed now."""
    heads = []
    for destination_id in fifo_ids:
        head = (
            DeliveryLog.objects.filter(
                destination_id=destination_id, status__in=[Status.PENDING, Status.IN_PROGRESS]
            )
            .order_by("received_timestamp", "id")
            .values("id", "status", "next_attempt_at", "claimed_until")
            .first()
        )
        if head is None or (log_ids is not None and head["id"] not in log_ids):
            continue
        due_at, lease = head["next_attempt_at"], head["claimed_until"]
        due = head["status"] == Status.PENDING and due_at is not None and due_at <= now
        expired = head["status"] == Status.IN_PROGRESS and lease is not None and lease < now
        if due or expired:
            heads.append((head["id"], destination_id))
    return heads


def _count_rate_claims(
    rows: list[Mapping[str, Any]], picked_by_destination: dict[int, int], now: datetime
) -> None:
    window_start = now - timedelta(seconds=1)
    for row in rows:
        claimed = picked_by_destination.get(row["id"], 0)
        if row["rate_limit"] is None or not claimed:
            continue
        if _in_window(row, window_start):
            Destination.objects.filter(pk=row["id"]).update(
                rate_window_count=F("rate_window_count") + claimed
            )
        else:
            Destination.objects.filter(pk=row["id"]).update(
                rate_window_start=now, rate_window_count=claimed
            )


def deliveries_claim(*, limit: int, log_ids: list[int] | None = None) -> list[DeliveryJob]:
    """Claims up to `limit` due deliveries for this engine; returns their jobs."""
    if limit <= 0:
        return []
    now = timezone.now()
    cap = settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION
    token = uuid.uuid4()
    with transaction.atomic():
        free, excluded = _caps(now=now)
        paused = set(excluded)
        controlled, fifo_ids = _controlled(now=now, free=free, excluded=excluded)
        rate_limited = {
            row["id"]
            for row in controlled
            if not row["fifo"] and row["id"] not in paused and free[row["id"]] > 0
        }
        claimable = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
            status=Status.IN_PROGRESS, claimed_until__lt=now
        )
        base = DeliveryLog.objects.filter(
            ~Q(destination_id__in=excluded) | Q(destination_id__in=rate_limited)
        )
        if log_ids is not None:
            base = base.filter(pk__in=log_ids)
        window = limit * CANDIDATES_PER_SLOT
        # Two index-backed queries (expired leases first: they have waited longest).
        candidates = list(
            skip_locked(base.filter(status=Status.IN_PROGRESS, claimed_until__lt=now))
            .order_by("claimed_until")
            .values_list("id", "destination_id")[:window]
        )
        candidates += (
            skip_locked(base.filter(status=Status.PENDING, next_attempt_at__lte=now))
            .order_by("next_attempt_at", "id")
            .values_list("id", "destination_id")[: max(window - len(candidates), 0)]
        )
        candidates = (
            _fifo_heads(fifo_ids=[d for d in fifo_ids if d not in paused], now=now, log_ids=log_ids)
            + candidates
        )
        picked: list[int] = []
        picked_by_destination: dict[int, int] = {}
        for log_id, destination_id in candidates:
            room = free.get(destination_id, cap)
            if room <= 0:
                continue
            free[destination_id] = room - 1
            picked.append(log_id)
            picked_by_destination[destination_id] = picked_by_destination.get(destination_id, 0) + 1
            if len(picked) >= limit:
                break
        if not picked:
            return []
        _count_rate_claims(controlled, picked_by_destination, now)
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
        return [_job(log, token, now) for log in rows]


def signing_secrets(destination: Destination, now: datetime) -> tuple[str, ...]:
    """The current secret, and the previous one while its rotation's grace period lasts."""
    expires = destination.previous_secret_expires_at
    if destination.previous_signing_secret and expires is not None and expires > now:
        return (destination.signing_secret, destination.previous_signing_secret)
    return (destination.signing_secret,)


def _job(log: DeliveryLog, token: uuid.UUID, now: datetime) -> DeliveryJob:
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
        signing_secrets=signing_secrets(destination, now),
        traceparent=log.event.traceparent,  # tracing hook
    )
