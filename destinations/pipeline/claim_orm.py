"""The claim on SQLite (the embedded default): the rules of `claim_sql` with a few ORM queries.

Called by `claims.deliveries_claim` inside its IMMEDIATE transaction, so no other engine claims
in between. Behaviour is the PostgreSQL statement's: caps, breaker, rate limits, FIFO heads, the
lost attempt of a taken-over claim.
"""

import uuid
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from destinations.models import DeliveryAttempt, DeliveryLog, Destination
from destinations.pipeline.claims import (
    CANDIDATES_PER_SLOT,
    LOST_ATTEMPT_ERROR,
    DeliveryJob,
    job_from_log,
)

Status = DeliveryLog.Status


def _free_slots(*, now: datetime) -> tuple[dict[int, int], set[int], dict[int, int | None]]:
    """(free slots of each busy or restricted destination, FIFO destinations, rate limits)."""
    cap = settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION
    window_start = now - timedelta(seconds=1)
    in_flight = dict(
        DeliveryLog.objects.filter(status=Status.IN_PROGRESS, claimed_until__gte=now)
        .values("destination_id")
        .annotate(n=Count("id"))
        .values_list("destination_id", "n")
    )
    controls = {
        row["id"]: row
        for row in Destination.objects.filter(
            Q(breaker_trips__gt=0)
            | Q(is_active=True) & (Q(fifo=True) | Q(rate_limit__isnull=False))
        ).values(
            "id",
            "is_active",
            "fifo",
            "rate_limit",
            "rate_window_start",
            "rate_window_count",
            "breaker_trips",
            "breaker_open_until",
        )
    }
    free: dict[int, int] = {}
    fifo: set[int] = set()
    rate_limits: dict[int, int | None] = {}
    for destination_id in in_flight.keys() | controls.keys():
        row = controls.get(destination_id)
        limit = cap
        room = cap
        if row is not None:
            tripped = row["breaker_trips"] > 0
            is_fifo = row["is_active"] and row["fifo"]
            rate = row["rate_limit"] if row["is_active"] else None
            if (
                tripped
                and row["breaker_open_until"] is not None
                and row["breaker_open_until"] > now
            ):
                limit = 0
            elif tripped or is_fifo:
                limit = 1
            if rate is not None:
                started = row["rate_window_start"]
                used = row["rate_window_count"] if started and started > window_start else 0
                room = rate - used
                rate_limits[destination_id] = rate
            if is_fifo:
                fifo.add(destination_id)
        free[destination_id] = max(0, min(limit - in_flight.get(destination_id, 0), room))
    return free, fifo, rate_limits


def _fifo_head(*, destination_id: int, now: datetime) -> tuple[int, int, datetime] | None:
    head = (
        DeliveryLog.objects.filter(
            destination_id=destination_id, status__in=[Status.PENDING, Status.IN_PROGRESS]
        )
        .order_by("received_timestamp", "id")
        .values("id", "status", "next_attempt_at", "claimed_until", "received_timestamp")
        .first()
    )
    if head is None:
        return None
    due_at, lease = head["next_attempt_at"], head["claimed_until"]
    due = head["status"] == Status.PENDING and due_at is not None and due_at <= now
    expired = head["status"] == Status.IN_PROGRESS and lease is not None and lease < now
    if not (due or expired):
        return None
    return (head["id"], destination_id, head["received_timestamp"])


def _count_rate_claims(
    picked: dict[int, int], rate_limits: dict[int, int | None], now: datetime
) -> None:
    window_start = now - timedelta(seconds=1)
    for destination_id, claimed in picked.items():
        if rate_limits.get(destination_id) is None:
            continue
        in_window = Destination.objects.filter(
            pk=destination_id, rate_window_start__gt=window_start
        ).update(rate_window_count=F("rate_window_count") + claimed)
        if not in_window:
            Destination.objects.filter(pk=destination_id).update(
                rate_window_start=now, rate_window_count=claimed
            )


def _round_robin(
    candidates: list[tuple[int, int, datetime]], *, free: dict[int, int], cap: int, limit: int
) -> tuple[list[int], dict[int, int], set[int]]:
    """`claim_sql`'s `picked`: each destination's candidates ranked oldest first, within its free
    slots, then taken rank by rank across destinations up to `limit`. Returns the picked logs,
    how many each destination got, and the destinations whose free slots the candidates fill."""
    ranked: list[tuple[int, datetime, int, int]] = []
    per_destination: dict[int, int] = {}
    for log_id, destination_id, due_at in sorted(candidates, key=lambda c: (c[2], c[0])):
        rank = per_destination.get(destination_id, 0) + 1
        if rank <= free.get(destination_id, cap):
            per_destination[destination_id] = rank
            ranked.append((rank, due_at, log_id, destination_id))
    picked = sorted(ranked)[:limit]
    taken: dict[int, int] = {}
    for *_, destination_id in picked:
        taken[destination_id] = taken.get(destination_id, 0) + 1
    filled = {d for d, n in per_destination.items() if n >= free.get(d, cap)}
    return [log_id for _, _, log_id, _ in picked], taken, filled


def claim_with_orm(
    *, limit: int, log_ids: list[int] | None, now: datetime, token: uuid.UUID
) -> list[DeliveryJob]:
    cap = settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION
    free, fifo, rate_limits = _free_slots(now=now)
    blocked = {d for d, n in free.items() if n <= 0} | fifo
    base = DeliveryLog.objects.exclude(destination_id__in=blocked)
    if log_ids is not None:
        base = base.filter(pk__in=log_ids)
    window = limit * CANDIDATES_PER_SLOT
    candidates = list(
        base.filter(status=Status.IN_PROGRESS, claimed_until__lt=now)
        .order_by("claimed_until")
        .values_list("id", "destination_id", "claimed_until")[:window]
    )
    # Each destination's oldest due logs, at most a batch or its cap (`_round_robin` keeps those
    # within its free slots), in one query: never the backlog of a destination at its cap.
    per_destination_rank = Window(
        RowNumber(),
        partition_by=[F("destination_id")],
        order_by=[F("next_attempt_at").asc(), F("id").asc()],
    )
    candidates += (
        base.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .annotate(rank=per_destination_rank)
        .filter(rank__lte=min(cap, limit))
        .values_list("id", "destination_id", "next_attempt_at")
    )
    heads = [_fifo_head(destination_id=d, now=now) for d in sorted(fifo) if free.get(d, 0) > 0]
    candidates += [h for h in heads if h and (log_ids is None or h[0] in log_ids)]
    # Every time is set: the filters above take only due, expired or head logs.
    timed = cast(list[tuple[int, int, datetime]], candidates)
    picked, per_destination, filled = _round_robin(timed, free=free, cap=cap, limit=limit)
    if not picked:
        return []
    taken_over = list(
        DeliveryLog.objects.filter(pk__in=picked, status=Status.IN_PROGRESS).values_list(
            "id", "attempts", "claimed_at"
        )
    )
    _count_rate_claims(per_destination, rate_limits, now)
    DeliveryLog.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now)
        | Q(status=Status.IN_PROGRESS, claimed_until__lt=now),
        pk__in=picked,
    ).update(
        status=Status.IN_PROGRESS,
        claimed_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
        claimed_at=now,
        claim_token=token,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(
            log_id=log_id,
            attempt_number=attempts,
            started_at=claimed_at or now,
            error=LOST_ATTEMPT_ERROR,
            outcome=DeliveryAttempt.Outcome.UNKNOWN,
        )
        for log_id, attempts, claimed_at in taken_over
    )
    rows = (
        DeliveryLog.objects.filter(claim_token=token, status=Status.IN_PROGRESS)
        .select_related("event", "destination")
        .order_by("id")
    )
    return [
        job_from_log(log, token, now, fills_destination=log.destination_id in filled)
        for log in rows
    ]
