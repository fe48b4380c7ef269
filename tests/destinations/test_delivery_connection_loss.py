"""A worker's real PostgreSQL connections are terminated (`pg_terminate_backend`) while it is in
the middle of a burst: it reconnects and everything is still delivered, none lost.

PostgreSQL only: the embedded SQLite default has no server connection to break.
"""

import json
import threading

import pytest
from django.db import connection

from destinations.models import DeliveryLog
from destinations.pipeline.ingest import event_ingest
from tests.destinations.factories import DestinationFactory
from tests.destinations.test_delivery_worker import WORKER_ENV, final_count
from tests.support.worker import wait_until

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL backends"),
]

EVENTS = 200


def terminate_other_backends() -> int:
    """Terminates every other session of the test database (the worker's); how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_worker_whose_connections_are_terminated_mid_burst_delivers_everything(
    celery_worker_process, account, sink
):
    DestinationFactory(account=account, url=sink.url("/pg"))
    # 40 answered at once; the rest wait at the gate, so the worker is mid-burst (calls in
    # flight, outcomes still to record) when its connections go.
    gate = threading.Event()
    sink.script("/pg", [{}] * 40)
    sink.default("/pg", {"gate": gate})
    for n in range(EVENTS):
        event_ingest(account_id=account.pk, body=json.dumps({"n": n}))

    # Held calls must not time out (read timeouts would trip the circuit and pause the
    # destination): a read timeout longer than any hold, a lease past it.
    env = {**WORKER_ENV, "DELIVERY_READ_TIMEOUT": "20", "DELIVERY_LEASE_SECONDS": "25",
           "DELIVERY_CONNECT_TIMEOUT": "5"}  # fmt: skip
    worker = celery_worker_process(extra_env=env, concurrency=2)
    wait_until(
        lambda: final_count() >= 40 and len(sink.received("/pg")) > 40,
        timeout=60,
        message="no calls held at the gate",
    )
    assert terminate_other_backends() >= 2  # at least one connection per engine was cut
    gate.set()
    # Once more while the released calls are being recorded.
    wait_until(lambda: final_count() > 40, timeout=60, message="nothing recorded after the cut")
    terminate_other_backends()

    wait_until(
        lambda: final_count() == EVENTS,
        timeout=150,
        message="deliveries stopped after the connections were terminated",
    )
    assert DeliveryLog.objects.filter(status="success").count() == EVENTS
    bodies = {json.loads(r["body"])["n"] for r in sink.received("/pg")}
    assert bodies == set(range(EVENTS))  # none lost
    assert worker.process.poll() is None  # the worker itself lived through it
