"""Delivery through a real Celery worker process to a real local HTTP sink.

The worker is a separate process: the allow-list for 127.0.0.1 and the short retry schedule,
timeouts and lease reach it through `extra_env`.
"""

import json
import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from destinations.models import DeliveryAttempt, DeliveryLog
from destinations.services import event_ingest
from tests.destinations.factories import DestinationFactory
from tests.destinations.sink import verify_signature
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
    "DELIVERY_REQUEUE_AFTER_SECONDS": "2",
    "DELIVERY_SWEEP_INTERVAL_SECONDS": "1",
}


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
    worker = celery_worker_process(extra_env=WORKER_ENV, concurrency=3)

    payload = {"key": "value", "nested": {"n": [1, 2]}, "text": "héllo"}
    client = APIClient()
    client.credentials(HTTP_CL_X_TOKEN=str(account.app_secret_token))
    response = client.post("/server/incoming_data/", payload, format="json")
    assert response.status_code == 200
    event_id = response.json()["event_id"]

    wait_until(lambda: final_count() == 4, timeout=40, message="deliveries did not finish")
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

    # The worker counts in its own processes and serves the sum over them itself.
    metrics = worker.metrics()
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
    for i in range(500):
        event_ingest(account=account, payload={"i": i})
    assert DeliveryLog.objects.filter(destination=destination).count() == 500

    worker = celery_worker_process(extra_env=WORKER_ENV, beat=True, concurrency=4)
    wait_until(lambda: final_count() >= 60, timeout=40, message="no deliveries before the kill")
    worker.kill()
    assert final_count() < 500, "the kill came too late to test anything"

    worker.start()
    wait_until(lambda: final_count() == 500, timeout=75, message="deliveries lost after kill")

    assert DeliveryLog.objects.filter(status=DeliveryLog.Status.SUCCESS).count() == 500
    delivered_ids = {r["headers"]["webhook-id"] for r in sink.received("/bulk")}
    assert len(delivered_ids) == 500  # duplicates are allowed (at-least-once), losses are not


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the broker-down case needs the Redis broker"
)
def test_it_delivers_what_was_accepted_while_the_broker_was_down(
    celery_worker_process, account, sink
):
    from backend.celery import app

    destination = DestinationFactory(account=account, url=sink.url("/later"))
    client = APIClient()
    client.credentials(HTTP_CL_X_TOKEN=str(account.app_secret_token))
    with broker_unreachable():
        statuses = [
            client.post("/api/v1/incoming-data/", {"n": n}, format="json").status_code
            for n in range(4)
        ]
    assert statuses == [200] * 4
    assert DeliveryLog.objects.filter(destination=destination, status="pending").count() == 4

    celery_worker_process(extra_env=WORKER_ENV, beat=True)
    wait_until(lambda: final_count() == 4, timeout=40, message="sweeper did not deliver")
    assert DeliveryLog.objects.filter(status=DeliveryLog.Status.SUCCESS).count() == 4
    assert len(sink.received("/later")) == 4
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
