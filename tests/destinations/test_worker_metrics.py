"""Several Celery workers on one machine: each serves its own delivery counts on its own port."""

import pytest

from destinations.models import DeliveryLog
from destinations.pipeline.ingest import event_ingest
from tests.destinations.factories import DestinationFactory
from tests.support.metrics import metric_value
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]

WORKER_ENV = {"DESTINATION_ALLOWED_HOSTS": "127.0.0.1"}
EVENTS = 20
DELIVERED = "destinations_deliveries_total"


def delivered() -> int:
    return DeliveryLog.objects.filter(status=DeliveryLog.Status.SUCCESS).count()


def test_workers_on_one_machine_count_apart_and_a_taken_port_wipes_nothing(
    celery_worker_process, account, sink
):
    DestinationFactory(account=account, url=sink.url("/ok"))
    first = celery_worker_process(extra_env=WORKER_ENV, concurrency=2)
    second = celery_worker_process(extra_env=WORKER_ENV, concurrency=2)
    assert first.metrics_port != second.metrics_port

    for i in range(EVENTS):
        event_ingest(account_id=account.pk, body=f'{{"i": {i}}}')
    wait_until(lambda: delivered() == EVENTS, timeout=40, message="deliveries did not finish")

    # Each worker counts only what its own processes delivered: together, every delivery once.
    counts = [metric_value(w.metrics(), DELIVERED, outcome="success") for w in (first, second)]
    assert sum(counts) == EVENTS, counts

    # A third worker given the busier one's port (and so its directory) runs on without
    # metrics, and the busier worker's counts are still all there.
    busier, count = max(zip((first, second), counts, strict=True), key=lambda pair: pair[1])
    third = celery_worker_process(
        extra_env={
            **WORKER_ENV,
            "CELERY_METRICS_PORT": str(busier.metrics_port),
            "CELERY_METRICS_DIR": str(busier.log_dir / f"metrics-{busier.metrics_port}"),
        },
        concurrency=1,
    )
    assert third.process.poll() is None
    assert "Worker metrics not served" in third.logs()
    assert count > 0
    assert metric_value(busier.metrics(), DELIVERED, outcome="success") == count
