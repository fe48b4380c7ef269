"""Destination stats (SPEC section 13): what an account admin reads to answer "is my endpoint
healthy?".

Every figure is one index-backed query bounded by the window (or by the destination's backlog):
logs by status through `dest_log_dest_recv_idx`, attempts through `dest_attempt_dest_time_idx`
(index-only scans on PostgreSQL), the last success/failure through
`dest_attempt_dest_outcome_idx`, the backlog through `dest_log_dest_due_idx`. Percentiles are
the nearest-rank kind (`percentile_disc` on PostgreSQL; the same rule in Python elsewhere), so
every value is a latency that was really measured.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Min, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from destinations.models import DeliveryAttempt, DeliveryLog, Destination

Status = DeliveryLog.Status
Outcome = DeliveryAttempt.Outcome
PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
FAILURE_OUTCOMES = (Outcome.RETRY, Outcome.FAILED)


@dataclass(frozen=True)
class Window:
    """A stats window: its length and the width of a chart bucket."""

    name: str
    length: timedelta
    bucket: timedelta


WINDOWS = {
    "1h": Window("1h", timedelta(hours=1), timedelta(hours=1)),
    "24h": Window("24h", timedelta(hours=24), timedelta(hours=1)),
    "7d": Window("7d", timedelta(days=7), timedelta(days=1)),
}
DEFAULT_WINDOW = "24h"


class PercentileDisc(Aggregate):
    """PostgreSQL's `percentile_disc(p) WITHIN GROUP (ORDER BY expr)`."""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float, **extra: Any):
        super().__init__(expression, fraction=float(fraction), **extra)


def nearest_rank(sorted_values: list[int], fraction: float) -> int | None:
    """The smallest value with at least `fraction` of the values at or below it."""
    if not sorted_values:
        return None
    return sorted_values[max(math.ceil(fraction * len(sorted_values)) - 1, 0)]


def _bucket_start(moment: datetime, window: Window) -> datetime:
    moment = moment.astimezone(UTC)
    if window.bucket >= timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def _number(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _deliveries(destination_id: int, since: datetime, until: datetime) -> dict[str, int]:
    # "retrying": an unfinished log that already had an attempt (in flight again or waiting).
    retrying = Q(status=Status.PENDING, attempts__gt=0) | Q(
        status=Status.IN_PROGRESS, attempts__gt=1
    )
    counts = DeliveryLog.objects.filter(
        destination_id=destination_id,
        received_timestamp__gte=since,
        received_timestamp__lt=until,
    ).aggregate(
        success=Count("id", filter=Q(status=Status.SUCCESS)),
        failed=Count("id", filter=Q(status=Status.FAILED)),
        retrying=Count("id", filter=retrying),
        pending=Count("id", filter=Q(status__in=[Status.PENDING, Status.IN_PROGRESS]) & ~retrying),
        held=Count("id", filter=Q(status=Status.HELD)),
    )
    return {key: int(value) for key, value in counts.items()}


def _attempt_figures(
    attempts: QuerySet[DeliveryAttempt], window: Window
) -> tuple[dict[str, int], dict[str, float | None], dict[datetime, dict[str, Any]]]:
    """(totals, latency percentiles, {bucket start: counts and p95}) of the window's attempts."""
    answered = Q(status_code__isnull=False)
    is_success = Q(outcome=Outcome.SUCCESS)
    if connection.vendor == "postgresql":
        totals = attempts.aggregate(
            total=Count("id"),
            success=Count("id", filter=is_success),
            **{
                name: PercentileDisc("duration_ms", fraction, filter=answered)
                for name, fraction in PERCENTILES.items()
            },
        )
        trunc = TruncDay if window.bucket >= timedelta(days=1) else TruncHour
        rows = (
            attempts.annotate(start=trunc("started_at", tzinfo=UTC))
            .values("start")
            .annotate(
                success=Count("id", filter=is_success),
                failure=Count("id", filter=~is_success),
                p95=PercentileDisc("duration_ms", 0.95, filter=answered),
            )
            .order_by()
        )
        buckets: dict[datetime, dict[str, Any]] = {row["start"]: dict(row) for row in rows}
        latency = {name: _number(totals[name]) for name in PERCENTILES}
        return {"total": totals["total"], "success": totals["success"]}, latency, buckets
    # Other databases (the embedded SQLite default) have no percentile aggregate: the window's
    # rows are read through the same index and counted here.
    durations: list[int] = []
    per_bucket: dict[datetime, dict[str, Any]] = {}
    success = 0
    total = 0
    for started_at, outcome, duration_ms, status_code in attempts.values_list(
        "started_at", "outcome", "duration_ms", "status_code"
    ):
        total += 1
        bucket = per_bucket.setdefault(
            _bucket_start(started_at, window), {"success": 0, "failure": 0, "durations": []}
        )
        if outcome == Outcome.SUCCESS:
            success += 1
            bucket["success"] += 1
        else:
            bucket["failure"] += 1
        if status_code is not None:
            durations.append(duration_ms)
            bucket["durations"].append(duration_ms)
    durations.sort()
    latency = {
        name: _number(nearest_rank(durations, fraction)) for name, fraction in PERCENTILES.items()
    }
    for bucket in per_bucket.values():
        bucket["p95"] = nearest_rank(sorted(bucket.pop("durations")), 0.95)
    return {"total": total, "success": success}, latency, per_bucket


def _last_attempt(destination_id: int, outcomes: tuple[str, ...]) -> DeliveryAttempt | None:
    # One index probe per outcome (newest first), then the newest of those.
    found = [
        DeliveryAttempt.objects.filter(destination_id=destination_id, outcome=outcome)
        .order_by("-started_at")
        .only("started_at", "status_code", "error")
        .first()
        for outcome in outcomes
    ]
    candidates = [attempt for attempt in found if attempt is not None]
    return max(candidates, key=lambda a: a.started_at, default=None)


def breaker_state(destination: Destination, now: datetime) -> str:
    if destination.breaker_open_until is not None and destination.breaker_open_until > now:
        return "open"
    if destination.breaker_trips > 0:
        return "half_open"  # cooled down: the next claim lets one probe through
    return "closed"


def destination_stats(
    *, destination: Destination, window_name: str = DEFAULT_WINDOW, now: datetime | None = None
) -> dict[str, Any]:
    """The SPEC section 13 stats body of one destination over a window ending now."""
    window = WINDOWS[window_name]
    until = now or timezone.now()
    since = until - window.length
    attempts = DeliveryAttempt.objects.filter(
        destination_id=destination.pk, started_at__gte=since, started_at__lt=until
    )
    totals, latency, buckets = _attempt_figures(attempts, window)
    series = []
    start = _bucket_start(since, window)
    while start < until:
        bucket = buckets.get(start, {})
        series.append(
            {
                "start": _iso(start),
                "success": int(bucket.get("success", 0)),
                "failure": int(bucket.get("failure", 0)),
                "p95_ms": _number(bucket.get("p95")),
            }
        )
        start += window.bucket
    last_success = _last_attempt(destination.pk, (Outcome.SUCCESS,))
    last_failure = _last_attempt(destination.pk, FAILURE_OUTCOMES)
    backlog = DeliveryLog.objects.filter(
        destination_id=destination.pk, status=Status.PENDING, next_attempt_at__lte=until
    ).aggregate(due=Count("id"), oldest=Min("next_attempt_at"))
    return {
        "window": window.name,
        "since": _iso(since),
        "until": _iso(until),
        "deliveries": _deliveries(destination.pk, since, until),
        "attempts": {
            "total": totals["total"],
            "success": totals["success"],
            "failure": totals["total"] - totals["success"],
            "success_rate": (totals["success"] / totals["total"] if totals["total"] else None),
        },
        "latency_ms": latency,
        "last_success": (
            {"at": _iso(last_success.started_at), "status_code": last_success.status_code}
            if last_success
            else None
        ),
        "last_failure": (
            {
                "at": _iso(last_failure.started_at),
                "status_code": last_failure.status_code,
                "error": last_failure.error,
            }
            if last_failure
            else None
        ),
        "breaker": {
            "state": breaker_state(destination, until),
            "open_until": _iso(destination.breaker_open_until),
            "trips": destination.breaker_trips,
        },
        "backlog": {"due": backlog["due"], "oldest_due_at": _iso(backlog["oldest"])},
        "series": series,
    }
