"""The delivery engine's loop in this process (a real thread pool and a 127.0.0.1 sink): it
delivers, and a database error in one turn does not end it."""

import json

import pytest
from django.db import OperationalError

from destinations.models import DeliveryLog
from destinations.pipeline import engine as engine_module
from destinations.pipeline.engine import DeliveryEngine
from destinations.pipeline.ingest import event_ingest
from tests.destinations.factories import DestinationFactory
from tests.support.worker import wait_until


@pytest.fixture
def fast_loop(settings):
    settings.DELIVERY_POLL_FALLBACK_SECONDS = 0.2


def test_it_survives_a_failing_turn_and_delivers_everything(
    transactional_db, account, sink, allow_local, fast_loop, monkeypatch
):
    DestinationFactory(account=account, url=sink.url("/e"))
    for n in range(20):
        event_ingest(account_id=account.pk, body=json.dumps({"n": n}))
    real_fan_out = engine_module.events_fan_out
    failures = []

    def flaky_fan_out(**kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real_fan_out(**kwargs)

    monkeypatch.setattr(engine_module, "events_fan_out", flaky_fan_out)
    engine = DeliveryEngine(concurrency=4).start()
    try:
        wait_until(
            lambda: DeliveryLog.objects.filter(status="success").count() == 20,
            timeout=20,
            message="the engine stopped after a failing turn",
        )
        assert engine.running
    finally:
        engine.stop()
    assert failures == [1]
    assert len({r["headers"]["webhook-id"] for r in sink.received("/e")}) == 20
    assert not engine.running
