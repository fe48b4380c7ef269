"""Delivery controls through real worker processes and 127.0.0.1 sinks (SPEC section 11)."""

import json

import pytest
from standardwebhooks import Webhook

from destinations.models import DeliveryLog
from destinations.pipeline.ingest import event_ingest
from destinations.services import destination_rotate_secret
from tests.destinations.factories import DestinationFactory
from tests.destinations.test_delivery_worker import WORKER_ENV, final_count
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def ingest(account, payload, event_type=""):
    event_ingest(account_id=account.pk, body=json.dumps(payload), event_type=event_type)


def test_types_and_filters_route_each_event_where_it_belongs(celery_worker_process, account, sink):
    DestinationFactory(account=account, url=sink.url("/all"))
    DestinationFactory(account=account, url=sink.url("/orders"), event_types=["order.*"])
    DestinationFactory(
        account=account, url=sink.url("/big"), event_types=["order.created"],
        filter={"total": {"$gt": 100}},
    )  # fmt: skip
    ingest(account, {"total": 500}, "order.created")
    ingest(account, {"total": 5}, "order.created")
    ingest(account, {"total": 900}, "order.refunded")
    ingest(account, {"total": 1000})  # untyped
    celery_worker_process(extra_env=WORKER_ENV, concurrency=1)
    wait_until(lambda: final_count() == 4 + 3 + 1, timeout=40, message="not delivered")

    def types(path):
        return sorted(r["headers"].get("cl-x-event-type", "") for r in sink.received(path))

    assert types("/all") == ["", "order.created", "order.created", "order.refunded"]
    assert types("/orders") == ["order.created", "order.created", "order.refunded"]
    (big,) = sink.received("/big")
    assert json.loads(big["body"]) == {"total": 500}


def test_a_rate_limit_spreads_deliveries_across_two_workers(celery_worker_process, account, sink):
    DestinationFactory(account=account, url=sink.url("/slow-down"), rate_limit=2)
    for n in range(10):
        ingest(account, {"n": n})
    for _ in range(2):
        celery_worker_process(extra_env=WORKER_ENV, concurrency=1)
    wait_until(lambda: final_count() == 10, timeout=40, message="rate-limited deliveries lost")

    times = sorted(r["at"] for r in sink.received("/slow-down"))
    assert len(times) == 10  # waiting, never dropped
    # 2 per second: 10 take 5 windows, the last opening >= 4 s after the first. The first call
    # may reach the sink late on a loaded machine, so only 3 s of that is taken as certain.
    assert times[-1] - times[0] >= 3.0
    assert len({r["headers"]["webhook-id"] for r in sink.received("/slow-down")}) == 10


def test_fifo_delivers_in_received_order_and_a_retry_holds_the_line(
    celery_worker_process, account, sink
):
    DestinationFactory(account=account, url=sink.url("/line"), fifo=True)
    sink.script("/line", [{"status": 503}])  # the first delivery fails once
    for n in range(6):
        ingest(account, {"n": n})
    env = {**WORKER_ENV, "DELIVERY_RETRY_SCHEDULE": "0,1,1"}
    celery_worker_process(extra_env=env, concurrency=2)
    wait_until(lambda: final_count() == 6, timeout=40, message="fifo deliveries stuck")

    order = [json.loads(r["body"])["n"] for r in sink.received("/line")]
    assert order == [0, 0, 1, 2, 3, 4, 5]  # the retry of 0 came before 1
    assert DeliveryLog.objects.filter(status="success").count() == 6


def test_rotation_signs_with_both_secrets_during_the_grace_period(
    celery_worker_process, account, sink
):
    destination = DestinationFactory(account=account, url=sink.url("/rot"))
    old = destination.signing_secret
    new = destination_rotate_secret(destination=destination, user=None, grace_seconds=60)
    ingest(account, {"n": 1})
    celery_worker_process(extra_env=WORKER_ENV, concurrency=1)
    wait_until(lambda: final_count() == 1, timeout=30, message="not delivered")
    (received,) = sink.received("/rot")
    headers = {k: received["headers"][k] for k in ("webhook-id", "webhook-timestamp",
                                                    "webhook-signature")}  # fmt: skip
    for secret in (old, new.signing_secret):
        Webhook(secret).verify(received["body"], headers)


def test_an_auto_disabled_destination_is_announced_to_a_subscriber_only(
    celery_worker_process, account, sink
):
    gone = DestinationFactory(account=account, url=sink.url("/gone"))
    DestinationFactory(account=account, url=sink.url("/ops"), event_types=["system.*"])
    DestinationFactory(account=account, url=sink.url("/plain"))
    sink.default("/gone", {"status": 410})
    ingest(account, {"n": 1})
    celery_worker_process(extra_env=WORKER_ENV, concurrency=1)
    wait_until(
        lambda: len(sink.received("/ops")) == 2, timeout=30, message="system events not sent"
    )
    notices = {r["headers"]["cl-x-event-type"]: r for r in sink.received("/ops")}
    # The 410 failed the delivery for good and disabled the destination: both are announced.
    assert set(notices) == {"system.destination.disabled", "system.delivery.failed"}
    assert json.loads(notices["system.delivery.failed"]["body"])["last_status_code"] == 410
    body = json.loads(notices["system.destination.disabled"]["body"])
    assert body["destination_id"] == gone.pk and "410" in body["reason"]
    gone.refresh_from_db()
    assert not gone.is_active
    # The plain destination got the ordinary event only; the one it is about got nothing more.
    assert [r["headers"].get("cl-x-event-type") for r in sink.received("/plain")] == [None]
    assert len(sink.received("/gone")) == 1
