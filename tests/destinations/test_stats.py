"""GET /api/v1/destinations/{id}/stats/: figures checked against rows the test made."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from destinations.models import DeliveryAttempt, DeliveryLog
from destinations.stats import breaker_state, nearest_rank
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory

Status = DeliveryLog.Status
Outcome = DeliveryAttempt.Outcome


def stats_url(destination, window: str | None = None) -> str:
    url = f"/api/v1/destinations/{destination.pk}/stats/"
    return f"{url}?window={window}" if window else url


def make_attempt(log, *, at, outcome, duration_ms, status_code, error="") -> DeliveryAttempt:
    return DeliveryAttempt.objects.create(
        log=log,
        attempt_number=log.attempt_set.count() + 1,
        started_at=at,
        duration_ms=duration_ms,
        status_code=status_code,
        error=error,
        outcome=outcome,
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def hour_of(moment: datetime) -> str:
    return iso(moment.replace(minute=0, second=0, microsecond=0))


def day_of(moment: datetime) -> str:
    return iso(moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0))


@pytest.fixture
def busy_destination(account):
    """A destination with logs in every state and attempts at known times and latencies."""
    now = timezone.now()
    destination = DestinationFactory(
        account=account, breaker_trips=2, breaker_open_until=now + timedelta(seconds=60)
    )
    recent = now - timedelta(hours=2)
    earlier = now - timedelta(hours=5)
    old = now - timedelta(hours=30)

    def log(status, received, **fields):
        return DeliveryLogFactory(
            destination=destination, status=status, event__received_at=received, **fields
        )

    ok = log(Status.SUCCESS, recent, attempts=10)
    bad = log(Status.FAILED, earlier, attempts=4)
    log(Status.PENDING, recent, attempts=1, next_attempt_at=now - timedelta(minutes=10))
    log(Status.PENDING, recent, attempts=0, next_attempt_at=now - timedelta(minutes=1))
    log(Status.PENDING, recent, attempts=0, next_attempt_at=now + timedelta(hours=1))
    log(Status.IN_PROGRESS, recent, attempts=1)
    log(Status.IN_PROGRESS, recent, attempts=3)
    log(Status.HELD, recent, next_attempt_at=None)
    previous_day = log(Status.SUCCESS, old, attempts=1)
    for i in range(10):  # 10..100 ms, all successes, two hours ago
        make_attempt(
            ok,
            at=recent + timedelta(seconds=i),
            outcome=Outcome.SUCCESS,
            duration_ms=10 * (i + 1),
            status_code=200,
        )
    for i, duration in enumerate((200, 300, 400)):
        make_attempt(
            bad,
            at=earlier + timedelta(seconds=i),
            outcome=Outcome.RETRY,
            duration_ms=duration,
            status_code=500,
            error="HTTP 500.",
        )
    # No answer: a failure, but no latency to count.
    make_attempt(
        bad,
        at=earlier + timedelta(seconds=10),
        outcome=Outcome.FAILED,
        duration_ms=1000,
        status_code=None,
        error="Read timed out.",
    )
    make_attempt(previous_day, at=old, outcome=Outcome.SUCCESS, duration_ms=5, status_code=204)
    # Another destination of the account: none of its rows count.
    other = DeliveryLogFactory(
        destination=DestinationFactory(account=account), status=Status.FAILED, attempts=1
    )
    make_attempt(other, at=recent, outcome=Outcome.FAILED, duration_ms=9999, status_code=400)
    return {"destination": destination, "recent": recent, "earlier": earlier, "old": old}


def test_it_fills_the_attempts_destination_in_the_database(busy_destination):
    destination = busy_destination["destination"]
    assert DeliveryAttempt.objects.filter(destination_id__isnull=True).count() == 0
    assert DeliveryAttempt.objects.filter(destination_id=destination.pk).count() == 15


def test_it_reports_the_24h_figures(member_client, busy_destination):
    destination = busy_destination["destination"]
    recent, earlier = busy_destination["recent"], busy_destination["earlier"]
    response = member_client.get(stats_url(destination))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["window"] == "24h"
    since = datetime.fromisoformat(body["since"])
    until = datetime.fromisoformat(body["until"])
    assert until - since == timedelta(hours=24)
    assert body["deliveries"] == {"success": 1, "failed": 1, "retrying": 2, "pending": 3, "held": 1}
    assert body["attempts"] == {
        "total": 14,
        "success": 10,
        "failure": 4,
        "success_rate": pytest.approx(10 / 14),
    }
    # 13 answered attempts: 10..100, 200, 300, 400 (the timeout has no latency).
    assert body["latency_ms"] == {"p50": 70.0, "p95": 400.0, "p99": 400.0}
    assert body["last_success"] == {"at": iso(recent + timedelta(seconds=9)), "status_code": 200}
    assert body["last_failure"] == {
        "at": iso(earlier + timedelta(seconds=10)),
        "status_code": None,
        "error": "Read timed out.",
    }
    assert body["breaker"] == {
        "state": "open",
        "open_until": iso(destination.breaker_open_until),
        "trips": 2,
    }
    now = timezone.now()
    assert body["backlog"]["due"] == 2
    oldest = datetime.fromisoformat(body["backlog"]["oldest_due_at"])
    assert now - timedelta(minutes=11) < oldest < now - timedelta(minutes=9)
    series = {bucket["start"]: bucket for bucket in body["series"]}
    assert len(body["series"]) in (24, 25)  # one per hour the window touches
    assert body["series"][0]["start"] == hour_of(since)
    assert series[hour_of(recent)] == {
        "start": hour_of(recent),
        "success": 10,
        "failure": 0,
        "p95_ms": 100.0,
    }
    assert series[hour_of(earlier)] == {
        "start": hour_of(earlier),
        "success": 0,
        "failure": 4,
        "p95_ms": 400.0,
    }
    quiet = [b for start, b in series.items() if start not in (hour_of(recent), hour_of(earlier))]
    assert all(b["success"] == b["failure"] == 0 and b["p95_ms"] is None for b in quiet)


def test_it_buckets_7d_by_day(member_client, busy_destination):
    destination = busy_destination["destination"]
    response = member_client.get(stats_url(destination, "7d"))
    assert response.status_code == 200
    body = response.json()
    assert body["window"] == "7d"
    assert body["attempts"]["total"] == 15  # the attempt 30 hours ago counts now
    assert body["deliveries"]["success"] == 2
    starts = [bucket["start"] for bucket in body["series"]]
    assert len(starts) == 8 and starts[0] == day_of(datetime.fromisoformat(body["since"]))
    assert all(s.endswith("T00:00:00Z") for s in starts)
    assert sum(b["success"] for b in body["series"]) == 11
    assert sum(b["failure"] for b in body["series"]) == 4
    old_day = next(b for b in body["series"] if b["start"] == day_of(busy_destination["old"]))
    assert old_day["success"] >= 1


def test_it_counts_only_the_last_hour_in_1h(member_client, busy_destination):
    body = member_client.get(stats_url(busy_destination["destination"], "1h")).json()
    assert body["attempts"] == {"total": 0, "success": 0, "failure": 0, "success_rate": None}
    assert body["latency_ms"] == {"p50": None, "p95": None, "p99": None}
    assert body["deliveries"] == {"success": 0, "failed": 0, "retrying": 0, "pending": 0, "held": 0}
    # The last success and failure are the destination's, whatever the window.
    assert body["last_success"]["status_code"] == 200
    assert body["backlog"]["due"] == 2
    assert 1 <= len(body["series"]) <= 2


def test_it_answers_nulls_for_a_destination_without_traffic(admin_client, destination):
    body = admin_client.get(stats_url(destination)).json()
    assert body["last_success"] is None and body["last_failure"] is None
    assert body["breaker"] == {"state": "closed", "open_until": None, "trips": 0}
    assert body["backlog"] == {"due": 0, "oldest_due_at": None}


@pytest.mark.parametrize("window", ["2d", "24H", "1h,7d", "0"])
def test_it_refuses_an_unknown_window(member_client, destination, window):
    response = member_client.get(f"/api/v1/destinations/{destination.pk}/stats/?window={window}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] and "window" in body["details"]


def test_other_tenants_get_404(outsider_client, busy_destination):
    response = outsider_client.get(stats_url(busy_destination["destination"]))
    assert response.status_code == 404
    assert "error" in response.json()


def test_it_needs_authentication(client, destination):
    assert client.get(stats_url(destination)).status_code == 401


def test_breaker_states():
    now = timezone.now()
    closed = DestinationFactory.build(breaker_trips=0, breaker_open_until=None)
    open_ = DestinationFactory.build(breaker_trips=1, breaker_open_until=now + timedelta(seconds=1))
    probing = DestinationFactory.build(
        breaker_trips=3, breaker_open_until=now - timedelta(seconds=1)
    )
    assert [breaker_state(d, now) for d in (closed, open_, probing)] == [
        "closed",
        "open",
        "half_open",
    ]


def test_nearest_rank_percentiles():
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([7], 0.99) == 7
    assert nearest_rank(list(range(1, 101)), 0.95) == 95
    assert nearest_rank([1, 2, 3, 4], 0.5) == 2
