"""The delivery engine's loop in this process (its real event loop and a 127.0.0.1 sink): it
delivers, and a real database outage (its connections terminated, new ones refused) is logged
once, counted at a backoff and logged when it ends, and everything is delivered after it."""

import json
import logging
import time

import pytest
from django.db import connection

from destinations.models import DeliveryLog
from destinations.pipeline.engine import DeliveryEngine
from destinations.pipeline.ingest import event_ingest
from tests.destinations.factories import DestinationFactory
from tests.support.worker import wait_until


@pytest.fixture
def fast_loop(settings):
    settings.DELIVERY_POLL_FALLBACK_SECONDS = 0.2


def delivered() -> int:
    return DeliveryLog.objects.filter(status="success").count()


def ingest_and_deliver(account, count: int, *, concurrency: int, timeout: float) -> DeliveryEngine:
    """Ingests events {"n": 0}, {"n": 1}, ... and runs an engine until all are delivered."""
    for n in range(count):
        event_ingest(account_id=account.pk, body=json.dumps({"n": n}))
    engine = DeliveryEngine(concurrency=concurrency).start()
    try:
        wait_until(lambda: delivered() == count, timeout=timeout, message="not delivered")
    finally:
        engine.stop()
    return engine


def test_it_delivers_everything_with_many_calls_in_flight(
    transactional_db, account, sink, allow_local, fast_loop
):
    DestinationFactory(account=account, url=sink.url("/e"))
    sink.default("/e", {"delay": 0.2})
    engine = ingest_and_deliver(account, 40, concurrency=40, timeout=20)
    received = sink.received("/e")
    assert len({r["headers"]["webhook-id"] for r in received}) == len(received) == 40
    # 40 calls of 0.2 s each, all in flight together: well under the 8 s one at a time.
    assert max(r["at"] for r in received) - min(r["at"] for r in received) < 4.0
    assert not engine.running


def test_without_a_backlog_turns_are_gathered(
    transactional_db, account, sink, allow_local, fast_loop, settings
):
    """A trickle (each event claimed as it comes, nothing left behind) is carried by turns at
    least DELIVERY_TURN_GATHER_SECONDS apart, not one turn per finished call."""
    settings.DELIVERY_TURN_GATHER_SECONDS = 0.5
    DestinationFactory(account=account, url=sink.url("/e"))
    sink.default("/e", {"delay": 0.05})
    engine = DeliveryEngine(concurrency=16).start()
    try:
        wait_until(lambda: engine.turns > 0, timeout=20, message="no first turn")
        started, turns_before = time.monotonic(), engine.turns
        for n in range(12):
            event_ingest(account_id=account.pk, body=json.dumps({"n": n}))
            time.sleep(0.05)
        wait_until(lambda: delivered() == 12, timeout=30, message="not delivered")
        elapsed, turns = time.monotonic() - started, engine.turns - turns_before
    finally:
        engine.stop()
    # One turn per gathering window at most (+1 for the turn under way when the count started).
    assert turns <= elapsed / 0.5 + 1, (turns, elapsed)


def test_a_stop_ends_the_gathering_wait(transactional_db, account, fast_loop, settings):
    """Stopping does not wait for the rest of a gathering window (here far longer than stop's
    own bound): the loop thread has ended when `stop` returns."""
    settings.DELIVERY_TURN_GATHER_SECONDS = 120.0
    engine = DeliveryEngine(concurrency=4).start()
    try:
        # Nothing is in flight, so the wait that begins after the first turn lasts its window.
        wait_until(lambda: engine.batch_waits > 0, timeout=20, message="no gathering wait")
    finally:
        engine.stop(timeout=1.0)
    assert not engine.running


def test_a_freed_fifo_slot_is_claimed_again_at_once_without_waiting_for_the_gathering(
    transactional_db, account, sink, allow_local, fast_loop, settings
):
    settings.DELIVERY_TURN_GATHER_SECONDS = 3.0
    DestinationFactory(account=account, url=sink.url("/fifo"), fifo=True)
    ingest_and_deliver(account, 5, concurrency=8, timeout=60)
    received = sink.received("/fifo")
    assert [json.loads(r["body"])["n"] for r in received] == [0, 1, 2, 3, 4]
    # One at a time, each claimed as the previous call ends: gathering between them would take
    # 4 x 3 s.
    assert received[-1]["at"] - received[0]["at"] < 6.0


def _set_connections_allowed(allowed: bool) -> None:
    """Refuses (or allows again) new connections to the test database and, when refusing, ends
    every connection to it but this test's own (PostgreSQL refuses this from inside it)."""
    import psycopg2

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own_pid,) = cursor.fetchone()
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    admin = psycopg2.connect(**params)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            name = connection.settings_dict["NAME"]
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            if not allowed:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> %s",
                    [name, own_pid],
                )
    finally:
        admin.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stops PostgreSQL connections")
def test_a_database_outage_is_logged_once_counted_and_its_end_logged(
    transactional_db, account, sink, allow_local, fast_loop, caplog
):
    DestinationFactory(account=account, url=sink.url("/e"))
    event_ingest(account_id=account.pk, body=json.dumps({"n": 0}))
    caplog.set_level(logging.INFO, logger="destinations.pipeline")
    engine = DeliveryEngine(concurrency=4).start()
    try:
        wait_until(lambda: delivered() == 1, timeout=20, message="not delivered before")
        try:
            _set_connections_allowed(False)
            event_ingest(account_id=account.pk, body=json.dumps({"n": 1}))  # our own connection
            wait_until(
                lambda: "still unavailable" in caplog.text,
                timeout=30,
                message="the outage was not counted",
            )
        finally:
            _set_connections_allowed(True)
        wait_until(lambda: delivered() == 2, timeout=30, message="not delivered after")
        assert engine.running
    finally:
        engine.stop()
    engine_lines = [r for r in caplog.records if r.name == "destinations.pipeline.engine"]
    messages = [r.getMessage() for r in engine_lines]
    assert sum("database unavailable" in m for m in messages) == 1
    assert sum("available again" in m for m in messages) == 1
    assert not [r for r in engine_lines if r.exc_info]  # no traceback per turn
    assert "Traceback" not in caplog.text
    assert len(sink.received("/e")) == 2
