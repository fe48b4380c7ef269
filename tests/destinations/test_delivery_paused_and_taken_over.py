"""Through real worker processes and 127.0.0.1 sinks: a FIFO head left by a dead engine is taken
over first; rate-limited and FIFO destinations whose circuit is open stay paused and resume after
it cools; proxy variables in the worker's environment are ignored."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from destinations.models import DeliveryLog
from destinations.pipeline.ingest import event_ingest
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory, EventFactory
from tests.destinations.sink import SinkServer
from tests.destinations.test_delivery_worker import WORKER_ENV, final_count
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]

# Retries due at once, so every pause seen at the sink is the circuit's, not the schedule's.
PAUSE_ENV = {
    **WORKER_ENV,
    "DELIVERY_RETRY_SCHEDULE": "0,0,0,0,0",
    "DELIVERY_RETRY_JITTER": "0",
    "DELIVERY_BREAKER_THRESHOLD": "2",
    "DELIVERY_BREAKER_COOLING_SECONDS": "3",
    "DELIVERY_LEASE_SECONDS": "30",
}


def numbers(sink, path: str) -> list[int]:
    return [json.loads(r["body"])["n"] for r in sink.received(path)]


def test_a_fifo_head_whose_lease_expired_is_taken_over_first(celery_worker_process, account, sink):
    destination = DestinationFactory(account=account, url=sink.url("/line"), fifo=True)
    start = timezone.now() - timedelta(minutes=1)
    logs = []
    for n in range(4):
        event = EventFactory(
            account=account, body=json.dumps({"n": n}), received_at=start + timedelta(seconds=n)
        )
        logs.append(DeliveryLogFactory(destination=destination, event=event))
    # What a SIGKILLed engine leaves: the head claimed (one attempt counted), its lease over.
    head = logs[0]
    DeliveryLog.objects.filter(pk=head.pk).update(
        status=DeliveryLog.Status.IN_PROGRESS,
        attempts=1,
        claim_token=uuid.uuid4(),
        claimed_until=timezone.now() - timedelta(seconds=5),
    )

    celery_worker_process(extra_env=WORKER_ENV, concurrency=2)
    wait_until(lambda: final_count() == 4, timeout=60, message="the line did not move")

    assert numbers(sink, "/line") == [0, 1, 2, 3]  # the head first, then the rest in order
    head.refresh_from_db()
    assert head.status == DeliveryLog.Status.SUCCESS
    assert head.attempts >= 2  # the lost claim still counts: attempt numbers never go back


@pytest.mark.parametrize("control", [{"rate_limit": 1}, {"fifo": True}])
def test_an_open_circuit_pauses_a_rate_limited_or_fifo_destination_until_it_cools(
    celery_worker_process, account, sink, control
):
    DestinationFactory(account=account, url=sink.url("/paused"), **control)
    sink.script("/paused", [{"status": 503}, {"status": 503}])  # two failures trip it
    for n in range(4):
        event_ingest(account_id=account.pk, body=json.dumps({"n": n}))

    celery_worker_process(extra_env=PAUSE_ENV, concurrency=2)
    wait_until(lambda: final_count() == 4, timeout=90, message="the destination never resumed")

    requests = sink.received("/paused")
    assert DeliveryLog.objects.filter(status="success").count() == 4
    assert len({r["headers"]["webhook-id"] for r in requests}) == 4  # none lost
    # The second failure opened the circuit: nothing was sent until the 3 s cooling had passed
    # (a lower bound: a slow machine only makes the gap longer), then each log went once.
    assert requests[2]["at"] - requests[1]["at"] >= 2.5
    assert len(requests) == 6
    if control.get("fifo"):
        assert numbers(sink, "/paused") == [0, 0, 0, 1, 2, 3]  # the head held the line


def test_proxy_variables_in_the_workers_environment_are_ignored(
    celery_worker_process, account, sink
):
    proxy = SinkServer().start()  # would receive every call if a proxy were used
    try:
        DestinationFactory(account=account, url=sink.url("/direct"))
        for n in range(3):
            event_ingest(account_id=account.pk, body=json.dumps({"n": n}))
        proxy_url = proxy.url("/")
        env = {
            **WORKER_ENV,
            **{name: proxy_url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")},
            **{name: proxy_url for name in ("http_proxy", "https_proxy", "all_proxy")},
            "NO_PROXY": "",
            "no_proxy": "",
        }
        celery_worker_process(extra_env=env, concurrency=1)
        wait_until(lambda: final_count() == 3, timeout=60, message="not delivered")

        assert sorted(numbers(sink, "/direct")) == [0, 1, 2]
        assert proxy.received() == []
    finally:
        proxy.stop()
