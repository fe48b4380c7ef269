"""Claims: due and expired logs only, one claim per log, per-destination caps, the breaker."""

import threading
import uuid
from datetime import timedelta

import psycopg2
import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from destinations.models import DeliveryAttempt, DeliveryLog, Destination
from destinations.pipeline.claim_orm import claim_with_orm
from destinations.pipeline.claim_sql import claim_sql
from destinations.pipeline.claims import claim_params, deliveries_claim
from destinations.pipeline.engine import delivery_attempt
from destinations.pipeline.outcomes import AttemptResult, outcomes_record
from destinations.pipeline.transports import HttpResult
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory
from tests.support.worker import wait_until

Status = DeliveryLog.Status


def test_it_claims_due_and_expired_logs_only(destination):
    now = timezone.now()
    due = DeliveryLogFactory(destination=destination, next_attempt_at=now - timedelta(seconds=1))
    expired = DeliveryLogFactory(
        destination=destination, status=Status.IN_PROGRESS, claimed_until=now - timedelta(seconds=1)
    )
    DeliveryLogFactory(destination=destination, next_attempt_at=now + timedelta(hours=1))
    DeliveryLogFactory(
        destination=destination, status=Status.IN_PROGRESS, claimed_until=now + timedelta(minutes=1)
    )
    for status in (Status.SUCCESS, Status.FAILED, Status.HELD):
        DeliveryLogFactory(destination=destination, status=status)

    jobs = deliveries_claim(limit=10)

    assert {job.log_id for job in jobs} == {due.pk, expired.pk}
    assert len({job.claim_token for job in jobs}) == 1
    for log in DeliveryLog.objects.filter(pk__in=[due.pk, expired.pk]):
        assert log.status == Status.IN_PROGRESS and log.claimed_until > now
    # Claimed once: a second engine gets nothing.
    assert deliveries_claim(limit=10) == []


def test_it_caps_claims_per_destination_so_others_get_their_turn(account, settings):
    settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION = 3
    busy = DestinationFactory(account=account)
    quiet = DestinationFactory(account=account)
    early = timezone.now() - timedelta(minutes=5)
    for _ in range(20):  # a backlog that is older than anything of the quiet destination
        DeliveryLogFactory(destination=busy, next_attempt_at=early)
    quiet_logs = [DeliveryLogFactory(destination=quiet) for _ in range(2)]

    first = deliveries_claim(limit=10)
    by_destination = {d: [j for j in first if j.destination_id == d] for d in (busy.pk, quiet.pk)}
    assert len(by_destination[busy.pk]) == 3
    assert {j.log_id for j in by_destination[quiet.pk]} == {log.pk for log in quiet_logs}
    # The busy destination is at its cap until its claims finish.
    assert deliveries_claim(limit=10) == []


def test_a_batch_smaller_than_the_backlog_takes_turns_across_destinations(account, settings):
    """The oldest backlog does not take the whole batch: each destination with due logs gets its
    turn (round-robin), whatever the age of the others' logs."""
    settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION = 3
    busy = DestinationFactory(account=account)
    quiet = DestinationFactory(account=account)
    early = timezone.now() - timedelta(minutes=5)
    for _ in range(20):
        DeliveryLogFactory(destination=busy, next_attempt_at=early)
    quiet_log = DeliveryLogFactory(destination=quiet)

    jobs = deliveries_claim(limit=2)

    assert sorted(job.destination_id for job in jobs) == sorted([busy.pk, quiet.pk])
    assert quiet_log.pk in {job.log_id for job in jobs}


def test_the_orm_claim_queries_as_often_for_many_destinations_as_for_one(account):
    """The embedded default's claim (its rules run on any database): one query finds every
    destination's due logs, not one more per destination."""

    def queries_of_a_claim() -> int:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            jobs = claim_with_orm(limit=50, log_ids=None, now=timezone.now(), token=uuid.uuid4())
        assert jobs
        return len(queries)

    DeliveryLogFactory(destination=DestinationFactory(account=account))
    one = queries_of_a_claim()
    for _ in range(5):
        DeliveryLogFactory(destination=DestinationFactory(account=account))

    assert queries_of_a_claim() == one


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan of the claim")
def test_the_claim_does_not_read_the_backlog_of_a_destination_at_its_cap(account, settings):
    """A slow destination's backlog must not make every claim of every engine walk it (under
    the claim lock): the claim reads the rows it may take, not the 300 it may not."""
    settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION = 2
    capped = DestinationFactory(account=account)
    roomy = DestinationFactory(account=account)
    early = timezone.now() - timedelta(minutes=5)
    lease = timezone.now() + timedelta(minutes=1)
    for _ in range(2):
        DeliveryLogFactory(destination=capped, status=Status.IN_PROGRESS, claimed_until=lease)
    DeliveryLogFactory.create_batch(300, destination=capped, next_attempt_at=early)
    wanted = DeliveryLogFactory(destination=roomy)

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE destinations_deliverylog")
        # The plan of a production-sized table: on these few hundred rows, reading the whole
        # table at once is cheaper than any index, and would hide what the claim reaches for.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _claim_plan(limit=10)

    assert _log_rows_read(plan) < 50, _log_rows_read(plan)
    assert DeliveryLog.objects.get(pk=wanted.pk).status == Status.IN_PROGRESS


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a row lock held by another session")
def test_a_due_log_locked_by_another_session_is_left_for_the_next_turn(
    transactional_db, destination
):
    """SKIP LOCKED: a log a user's change is writing right now neither holds up the claim (and
    every engine behind its lock) nor is claimed under that change."""
    early = timezone.now() - timedelta(seconds=1)
    locked, free = (
        DeliveryLogFactory(destination=destination, next_attempt_at=early) for _ in "ab"
    )
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM destinations_deliverylog WHERE id = %s FOR UPDATE", [locked.pk]
            )
        jobs = deliveries_claim(limit=10)
    finally:
        other.close()

    assert [job.log_id for job in jobs] == [free.pk]
    assert DeliveryLog.objects.get(pk=locked.pk).status == Status.PENDING
    assert [job.log_id for job in deliveries_claim(limit=10)] == [locked.pk]


def _claim_plan(*, limit: int) -> dict:
    """The claim statement run under EXPLAIN ANALYZE (it claims, as the engine's would)."""
    params = claim_params(limit=limit, log_ids=None, now=timezone.now(), token=uuid.uuid4())
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + claim_sql(only_some=False), params)
        return cursor.fetchone()[0][0]["Plan"]


def _log_rows_read(node: dict) -> int:
    """Rows the plan's scans of the log table returned or filtered out, over all their loops."""
    own = 0
    if node.get("Relation Name") == "destinations_deliverylog":
        loops = node.get("Actual Loops", 1)
        own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
    return own + sum(_log_rows_read(child) for child in node.get("Plans", []))


def _result(job, status_code):
    outcome = "success" if status_code == 200 else "retry"
    return AttemptResult(
        job=job,
        outcome=outcome,
        error="" if outcome == "success" else "down",
        http=HttpResult(status_code=status_code),
        started_at=timezone.now(),
    )


def test_it_opens_the_breaker_after_repeated_failures_and_probes_once(destination, settings):
    settings.DELIVERY_BREAKER_THRESHOLD = 3
    settings.DELIVERY_BREAKER_COOLING_SECONDS = 30
    for _ in range(6):
        DeliveryLogFactory(destination=destination)

    jobs = deliveries_claim(limit=3)
    outcomes_record([_result(job, 503) for job in jobs])
    destination.refresh_from_db()
    assert destination.breaker_trips == 1
    assert destination.breaker_open_until > timezone.now() + timedelta(seconds=25)
    # Open: nothing of it is claimed, its logs stay pending (nothing lost).
    assert deliveries_claim(limit=10) == []
    assert DeliveryLog.objects.filter(destination=destination, status=Status.PENDING).count() == 6

    # Cooled down: half-open lets one probe through; its failure reopens for twice as long.
    Destination.objects.filter(pk=destination.pk).update(breaker_open_until=timezone.now())
    DeliveryLog.objects.filter(destination=destination).update(next_attempt_at=timezone.now())
    (probe,) = deliveries_claim(limit=10)
    assert deliveries_claim(limit=10) == []
    outcomes_record([_result(probe, 500)])
    destination.refresh_from_db()
    assert destination.breaker_trips == 2
    assert destination.breaker_open_until > timezone.now() + timedelta(seconds=55)

    # The next probe succeeds: the breaker closes and the cap is the usual one again.
    Destination.objects.filter(pk=destination.pk).update(breaker_open_until=timezone.now())
    DeliveryLog.objects.filter(destination=destination).update(next_attempt_at=timezone.now())
    (probe,) = deliveries_claim(limit=10)
    outcomes_record([_result(probe, 200)])
    destination.refresh_from_db()
    assert (destination.breaker_trips, destination.breaker_open_until) == (0, None)
    assert len(deliveries_claim(limit=10)) == 5


def test_it_does_not_trip_the_breaker_on_a_refusal(destination, settings):
    settings.DELIVERY_BREAKER_THRESHOLD = 2
    for _ in range(3):
        DeliveryLogFactory(destination=destination)
    jobs = deliveries_claim(limit=3)
    refused = HttpResult(status_code=400)
    outcomes_record(
        [
            AttemptResult(
                job=j, outcome="failed", error="400", http=refused, started_at=timezone.now()
            )
            for j in jobs
        ]
    )
    destination.refresh_from_db()
    assert destination.breaker_trips == 0 and destination.breaker_open_until is None


def test_an_outcome_of_a_lost_lease_does_not_overwrite_the_new_holder(destination):
    log = DeliveryLogFactory(destination=destination)
    (stale,) = deliveries_claim(limit=1)
    DeliveryLog.objects.filter(pk=log.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    (current,) = deliveries_claim(limit=1)
    assert current.claim_token != stale.claim_token

    assert outcomes_record([_result(stale, 200)]) == {}
    log.refresh_from_db()
    assert log.status == Status.IN_PROGRESS and log.claim_token == current.claim_token
    assert outcomes_record([_result(current, 200)]) == {log.pk: "success"}


@pytest.mark.parametrize("status", [Status.SUCCESS, Status.FAILED, Status.HELD])
def test_a_single_attempt_skips_a_log_that_is_not_claimable(destination, status):
    log = DeliveryLogFactory(destination=destination, status=status)
    assert delivery_attempt(log_id=log.pk) == "skipped"


def test_failures_of_calls_claimed_before_the_trip_do_not_trip_it_again(destination, settings):
    settings.DELIVERY_BREAKER_THRESHOLD = 3
    settings.DELIVERY_BREAKER_COOLING_SECONDS = 30
    for _ in range(9):
        DeliveryLogFactory(destination=destination)
    jobs = deliveries_claim(limit=9)  # all in flight together
    outcomes_record([_result(job, 503) for job in jobs[:3]])
    destination.refresh_from_db()
    assert destination.breaker_trips == 1
    opened_until = destination.breaker_open_until

    # The rest of the burst comes back in two more batches: stragglers, not probes.
    outcomes_record([_result(job, 503) for job in jobs[3:6]])
    outcomes_record([_result(job, 503) for job in jobs[6:]])
    destination.refresh_from_db()
    assert (destination.breaker_trips, destination.breaker_open_until) == (1, opened_until)


def test_a_taken_over_claim_records_its_lost_send(destination):
    log = DeliveryLogFactory(destination=destination)
    (lost,) = deliveries_claim(limit=1)
    DeliveryLog.objects.filter(pk=log.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    (current,) = deliveries_claim(limit=1)
    outcomes_record([_result(current, 200)])

    log.refresh_from_db()
    attempts = list(DeliveryAttempt.objects.filter(log=log).order_by("attempt_number"))
    assert log.attempts == len(attempts) == 2
    assert [(a.attempt_number, a.outcome) for a in attempts] == [(1, "unknown"), (2, "success")]
    assert attempts[0].error == "unknown: worker lost"
    assert attempts[0].started_at == lost.claimed_at


def test_the_jobs_that_fill_a_destinations_free_slots_are_marked(account, settings):
    """The engine turns at once when such a call ends (its slot may have work waiting), and
    otherwise lets finished calls gather: the claim says which jobs those are."""
    settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION = 3
    capped = DestinationFactory(account=account)
    roomy = DestinationFactory(account=account)
    fifo = DestinationFactory(account=account, fifo=True)
    early = timezone.now() - timedelta(minutes=5)
    for destination, count in ((capped, 5), (roomy, 2), (fifo, 2)):
        for _ in range(count):
            DeliveryLogFactory(destination=destination, next_attempt_at=early)

    jobs = deliveries_claim(limit=20)

    filling = {d: [j.fills_destination for j in jobs if j.destination_id == d.pk] for d in
               (capped, roomy, fifo)}  # fmt: skip
    assert filling[capped] == [True, True, True]  # 3 of 5: at its cap
    assert filling[roomy] == [False, False]  # 2 of its 3 slots
    assert filling[fifo] == [True]  # one at a time


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a row lock held by another session")
def test_a_fifo_head_changed_while_the_claim_waits_for_it_is_not_claimed(
    transactional_db, destination
):
    """A FIFO head is read without a lock: the claim's UPDATE must see the change another
    session commits meanwhile (here: the log held) and leave the log alone."""
    Destination.objects.filter(pk=destination.pk).update(fifo=True)
    head = DeliveryLogFactory(
        destination=destination, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    other = psycopg2.connect(**connection.get_connection_params())
    claimed: dict[str, list] = {}

    def claim() -> None:
        try:
            claimed["jobs"] = deliveries_claim(limit=10)
        finally:
            connections.close_all()

    try:
        with other.cursor() as cursor:  # uncommitted: holds the row lock until the commit below
            cursor.execute(
                "UPDATE destinations_deliverylog SET status = 'held' WHERE id = %s", [head.pk]
            )
        claimer = threading.Thread(target=claim)
        claimer.start()
        wait_until(lambda: _sessions_waiting_for_a_lock() > 0, timeout=20, message="no wait")
        other.commit()
        claimer.join(20)
    finally:
        other.close()
    assert claimed["jobs"] == []
    head.refresh_from_db()
    assert (head.status, head.claim_token, head.attempts) == (Status.HELD, None, 0)


def _sessions_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
