"""Delivery through a real Celery worker process (its delivery engines) to real local HTTP sinks.

The worker is a separate process: the allow-list for 127.0.0.1 and the short retry schedule,
timeouts and lease reach it through `extra_env`.
"""

import json
import os
import threading

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from destinations.models import DeliveryAttempt, DeliveryLog, Event
from destinations.pipeline.ingest import event_ingest
from destinations.services import destination_rotate_secret
from tests.destinations.factories import DestinationFactory
from tests.destinations.sink import verify_signature
from tests.factories import AccountFactory
from tests.support.broker import broker_unreachable
from tests.support.metrics import metric_value
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]

WORKER_ENV = {
    "DESTINATION_ALLOWED_HOSTS": "127.0.0.1",
    "DELIVERY_RETRY_SCHEDULE": "0,1,1",
    "DELIVERY_READ_TIMEOUT": "1",
    "DELIVERY_CONNECT_TIMEOUT": "1",
    "DELIVERY_LEASE_SECONDS": "4",
    "DELIVERY_CONCURRENCY": "16",
}


def ingest_many(account, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        event_ingest(account_id=account.pk, body=json.dumps({"i": i}))


def delivered_ids(sink, path: str) -> list[str]:
    return [r["headers"]["webhook-id"] for r in sink.received(path)]


def final_count(**filters) -> int:
    return DeliveryLog.objects.filter(
        status__in=[DeliveryLog.Status.SUCCESS, DeliveryLog.Status.FAILED], **filters
    ).count()


def test_it_delivers_signed_retries_and_gives_up(celery_worker_process, account, sink):
    ok = DestinationFactory(
        account=account, url=sink.url("/ok"), headers={"X-Custom": "abc", "Authorization": "t"}
    )
    flaky = DestinationFactory(account=account, url=sink.url("/flaky"))
    hang = DestinationFactory(account=account, url=sink.url("/hang"))
    getter = DestinationFactory(account=account, url=sink.url("/get"), http_method="GET")
    sink.script("/flaky", [{"status": 500}, {"status": 503, "headers": {"Retry-After": "1"}}])
    sink.script("/hang", [{"hang": True}] * 3)
    # Exact attempt counts: a lease far beyond the 1 s read timeout and a connect timeout a loaded
    # machine cannot hit, so no attempt is taken over or lost to the clock.
    env = {**WORKER_ENV, "DELIVERY_CONNECT_TIMEOUT": "10", "DELIVERY_LEASE_SECONDS": "60"}
    worker = celery_worker_process(extra_env=env, concurrency=3)

    payload = {"key": "value", "nested": {"n": [1, 2]}, "text": "héllo"}
    client = APIClient()
    client.credentials(HTTP_CL_X_TOKEN=str(account.app_secret_token))
    response = client.post("/server/incoming_data/", payload, format="json")
    assert response.status_code == 200
    event_id = response.json()["event_id"]

    wait_until(lambda: final_count() == 4, timeout=90, message="deliveries did not finish")
    logs = {log.destination_id: log for log in DeliveryLog.objects.all()}

    # The exact body, the destination's headers and a valid Standard Webhooks signature.
    (received,) = sink.received("/ok")
    assert received["method"] == "POST"
    assert json.loads(received["body"]) == payload
    headers = received["headers"]
    assert headers["x-custom"] == "abc" and headers["authorization"] == "t"
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == event_id
    assert verify_signature(secret=ok.signing_secret, headers=headers, body=received["body"])
    assert logs[ok.pk].status == "success" and logs[ok.pk].last_status_code == 200
    assert logs[ok.pk].processed_timestamp is not None

    # GET: the payload as query parameters, signed over an empty body.
    (got,) = sink.received("/get")
    assert got["method"] == "GET" and "key=value" in got["path"]
    assert verify_signature(secret=getter.signing_secret, headers=got["headers"], body=b"")

    # 500, 503 then 200: success on the third attempt, every attempt recorded.
    assert logs[flaky.pk].status == "success"
    assert logs[flaky.pk].attempts == 3
    attempts = list(DeliveryAttempt.objects.filter(log=logs[flaky.pk]).order_by("id"))
    assert [(a.attempt_number, a.status_code, a.outcome) for a in attempts] == [
        (1, 500, "retry"),
        (2, 503, "retry"),
        (3, 200, "success"),
    ]
    assert len({r["headers"]["webhook-id"] for r in sink.received("/flaky")}) == 1

    # A sink that never answers: read timeouts until the schedule (3 attempts) is used up.
    assert logs[hang.pk].status == "failed"
    hang_attempts = DeliveryAttempt.objects.filter(log=logs[hang.pk])
    assert hang_attempts.count() == 3
    assert all("timeout" in a.error.lower() for a in hang_attempts)
    assert list(hang_attempts.values_list("outcome", flat=True)) == ["retry", "retry", "failed"]

    # The worker counts in its own processes and serves the sum over them itself (counted just
    # after each batch commits: wait for the last one).
    def final_counts():
        scraped = worker.metrics()
        failed = metric_value(scraped, "destinations_deliveries_total", outcome="failed")
        return scraped if failed == 1 else None

    metrics = wait_until(final_counts, timeout=30, message="the worker's counters lag behind")
    assert metric_value(metrics, "destinations_deliveries_total", outcome="success") == 3
    assert metric_value(metrics, "destinations_deliveries_total", outcome="failed") == 1
    attempts = "destinations_delivery_attempts_total"
    assert metric_value(metrics, attempts, outcome="success") == 3
    assert metric_value(metrics, attempts, outcome="retry") == 4
    assert metric_value(metrics, attempts, outcome="failed") == 1
    assert metric_value(metrics, "destinations_delivery_latency_seconds_count") == 4
    assert metric_value(metrics, "destinations_delivery_attempt_duration_seconds_count") == 8


def test_it_loses_nothing_when_the_worker_is_killed(celery_worker_process, account, sink):
    destination = DestinationFactory(account=account, url=sink.url("/bulk"))
    # The first 60 are answered; every later call waits at the gate, so the kill lands mid-burst
    # however slow the machine is.
    gate = threading.Event()
    sink.script("/bulk", [{}] * 60)
    sink.default("/bulk", {"gate": gate})
    ingest_many(account, 500)

    # Held calls must not time out before the kill (read timeouts would trip the circuit and
    # pause the destination past the wait below): a read timeout longer than any hold.
    env = {**WORKER_ENV, "DELIVERY_READ_TIMEOUT": "20", "DELIVERY_LEASE_SECONDS": "25"}
    worker = celery_worker_process(extra_env=env, beat=True, concurrency=4)
    wait_until(
        lambda: final_count() >= 60 and len(sink.received("/bulk")) > 60,
        timeout=60,
        message="no calls held at the gate before the kill",
    )
    worker.kill()
    assert final_count() < 500  # held calls were never answered: the kill is mid-burst
    gate.set()

    worker.start()
    wait_until(lambda: final_count() == 500, timeout=120, message="deliveries lost after kill")

    assert DeliveryLog.objects.filter(destination=destination, status="success").count() == 500
    # Duplicates are allowed after a kill (at-least-once), losses are not.
    assert len(set(delivered_ids(sink, "/bulk"))) == 500


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the broker-down case needs the Redis broker"
)
def test_it_delivers_what_was_accepted_while_the_broker_was_down(
    celery_worker_process, account, sink
):
    from backend.celery import app

    DestinationFactory(account=account, url=sink.url("/later"))
    client = APIClient()
    client.credentials(HTTP_CL_X_TOKEN=str(account.app_secret_token))
    with broker_unreachable():
        statuses = [
            client.post("/api/v1/incoming-data/", {"n": n}, format="json").status_code
            for n in range(4)
        ]
    assert statuses == [200] * 4
    # Stored and waiting for a worker's fan-out: nothing depended on the broker.
    assert Event.objects.filter(account=account, fanned_out_at__isnull=True).count() == 4

    celery_worker_process(extra_env=WORKER_ENV, beat=True)
    wait_until(lambda: final_count() == 4, timeout=40, message="accepted events not delivered")
    assert DeliveryLog.objects.filter(status=DeliveryLog.Status.SUCCESS).count() == 4
    assert len(sink.received("/later")) == 4
    assert app.conf.broker_url == settings.CELERY_BROKER_URL


def test_it_fans_a_burst_out_to_every_destination_once(celery_worker_process, account, sink):
    other = AccountFactory()
    for path in ("/a1", "/a2"):
        DestinationFactory(account=account, url=sink.url(path))
    DestinationFactory(account=other, url=sink.url("/b1"))
    ingest_many(account, 200)
    ingest_many(other, 100, start=1000)

    celery_worker_process(extra_env=WORKER_ENV, concurrency=2)
    wait_until(lambda: final_count() == 500, timeout=60, message="burst not delivered")

    assert DeliveryLog.objects.filter(status="success").count() == 500
    for path, count in (("/a1", 200), ("/a2", 200), ("/b1", 100)):
        ids = delivered_ids(sink, path)
        assert len(ids) == count and len(set(ids)) == count  # none lost, none twice
    # One successful attempt per log (a loaded machine may add a retried connect timeout).
    assert DeliveryAttempt.objects.filter(outcome="success").count() == 500


def test_a_hanging_destination_does_not_hold_up_another_account(
    celery_worker_process, account, sink
):
    healthy_account = AccountFactory()
    hanging = DestinationFactory(account=account, url=sink.url("/hang"))
    DestinationFactory(account=healthy_account, url=sink.url("/ok"))
    # Held (never answered) until the sink stops: no call comes back while the test looks.
    sink.default("/hang", {"gate": threading.Event()})
    ingest_many(account, 100)  # first in line
    ingest_many(healthy_account, 100, start=1000)

    env = {
        **WORKER_ENV,
        "DELIVERY_READ_TIMEOUT": "120",
        "DELIVERY_LEASE_SECONDS": "180",
        "DELIVERY_CONCURRENCY": "8",
        "DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION": "4",
    }
    celery_worker_process(extra_env=env, concurrency=2)
    wait_until(
        lambda: (
            DeliveryLog.objects.filter(account=healthy_account, status="success").count() == 100
        ),
        timeout=90,
        message="the healthy account waited behind the hanging destination",
    )
    # Proof by state, not by the clock: no hanging call has come back (none timed out, none was
    # recorded), so the healthy account never waited for one.
    assert not DeliveryAttempt.objects.filter(log__destination=hanging).exists()
    assert len(set(delivered_ids(sink, "/ok"))) == 100
    # The hanging destination holds its cap of calls, no more; the rest of its logs wait.
    assert 0 < len(sink.received("/hang")) <= 4
    assert DeliveryLog.objects.filter(destination=hanging, status="pending").count() >= 96


def test_a_broken_circuit_pauses_then_resumes_after_a_probe(celery_worker_process, account, sink):
    DestinationFactory(account=account, url=sink.url("/flaky"))
    sink.script("/flaky", [{"status": 503}] * 3)
    ingest_many(account, 10)
    env = {
        **WORKER_ENV,
        "DELIVERY_RETRY_SCHEDULE": "0,0,0,0",
        "DELIVERY_BREAKER_THRESHOLD": "3",
        "DELIVERY_BREAKER_COOLING_SECONDS": "2",
        "DELIVERY_CONCURRENCY": "1",
    }
    worker = celery_worker_process(extra_env=env, concurrency=1)
    wait_until(lambda: final_count() == 10, timeout=40, message="deliveries did not resume")

    assert DeliveryLog.objects.filter(status="success").count() == 10
    requests = sink.received("/flaky")
    assert len(requests) == 13  # 3 failures, then the probe and the other 9
    # After the third failure the destination paused for its cooling period before the probe.
    assert requests[3]["at"] - requests[2]["at"] >= 1.5
    assert "circuit open" in worker.logs()


def test_a_secret_rotated_mid_burst_signs_every_delivery_verifiably(
    celery_worker_process, account, sink
):
    destination = DestinationFactory(account=account, url=sink.url("/rot"))
    sink.default("/rot", {"delay": 0.05})
    old_secret = destination.signing_secret
    ingest_many(account, 60)
    celery_worker_process(extra_env={**WORKER_ENV, "DELIVERY_CONCURRENCY": "2"}, concurrency=1)
    wait_until(lambda: final_count() >= 10, timeout=30, message="no deliveries before rotation")
    new_secret = destination_rotate_secret(destination=destination, user=None).signing_secret
    wait_until(lambda: final_count() == 60, timeout=60, message="deliveries stopped at rotation")

    received = sink.received("/rot")
    assert len({r["headers"]["webhook-id"] for r in received}) == 60
    for r in received:
        assert any(
            verify_signature(secret=secret, headers=r["headers"], body=r["body"])
            for secret in (old_secret, new_secret)
        )
    # What was claimed after the rotation is signed with the new secret.
    assert verify_signature(
        secret=new_secret, headers=received[-1]["headers"], body=received[-1]["body"]
    )
