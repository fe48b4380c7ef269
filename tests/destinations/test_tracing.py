"""OpenTelemetry: one trace per event, from the ingest request to each delivery attempt.

The whole chain runs for real: a gunicorn and a Celery worker exporting to a local OTLP/HTTP
receiver, a sink on 127.0.0.1 that records the `traceparent` each delivery carries.
"""

import http.client
import json

import pytest

from backend.common import tracing, tracing_django
from destinations.models import Event
from destinations.pipeline.ingest import event_ingest
from destinations.pipeline.tracing import attempt_headers, attempt_span, current_traceparent
from tests.destinations.factories import DestinationFactory
from tests.support.gunicorn import GunicornProcess
from tests.support.otlp import OtlpReceiver
from tests.support.worker import free_port, wait_until

SERVER_KIND = 2  # SpanKind SPAN_KIND_SERVER in the OTLP protobuf
CLIENT_KIND = 3


@pytest.fixture
def otlp_receiver():
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


def test_off_by_default_the_hooks_do_nothing(account):
    assert not tracing.configured() and not tracing.enabled()
    assert current_traceparent() is None
    with attempt_span(
        traceparent=None,
        destination_id=1,
        attempt_number=1,
        log_id=1,
        event_id="evt",
        url="https://example.com/",
        method="POST",
    ) as span:
        assert attempt_headers() == {}
        span.record(status_code=200, outcome="success")  # a no-op, and no error
    event, _ = event_ingest(account_id=account.pk, body="{}")
    assert Event.objects.get(pk=event.pk).traceparent is None


def ingest(server: GunicornProcess, account, payload: dict) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        connection.request(
            "POST",
            "/api/v1/incoming-data/",
            body=json.dumps(payload),
            headers={
                "CL-X-TOKEN": str(account.app_secret_token),
                "Content-Type": "application/json",
            },
        )
        response = connection.getresponse()
        body = response.read()
        assert response.status in (200, 201, 202), body
        return json.loads(body)
    finally:
        connection.close()


@pytest.mark.worker
@pytest.mark.slow
def test_one_trace_from_ingest_through_each_attempt(
    celery_worker_process, account, sink, otlp_receiver, tmp_path
):
    first = DestinationFactory(account=account, url=sink.url("/first"))
    second = DestinationFactory(account=account, url=sink.url("/second"))
    sink.script("/second", [{"status": 503}])  # fails once: two attempts, both in the trace
    otel = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within a fraction of a second
    }
    celery_worker_process(
        extra_env={
            **otel,
            "OTEL_SERVICE_NAME": "test-worker",
            "DESTINATION_ALLOWED_HOSTS": "127.0.0.1",
            "DELIVERY_RETRY_SCHEDULE": "0,1,1",
        }
    )
    server = GunicornProcess(
        tmp_path, workers=1, extra_env={**otel, "OTEL_SERVICE_NAME": "test-web"}
    ).start()
    try:
        answer = ingest(server, account, {"hello": "trace"})
        wait_until(
            lambda: sink.received("/first") and len(sink.received("/second")) == 2,
            message="both destinations got the event (the second on its retry)",
        )
        headers = [r["headers"] for r in sink.received("/first") + sink.received("/second")]
        traceparents = [h["traceparent"] for h in headers]
        trace_id = traceparents[0].split("-")[1]
        # Every delivery of the event carries the same trace, W3C format.
        assert all(
            len(tp.split("-")) == 4 and tp.split("-")[0] == "00" and tp.split("-")[1] == trace_id
            for tp in traceparents
        ), traceparents
        event = Event.objects.get(event_id=answer["event_id"])
        assert event.traceparent.split("-")[1] == trace_id

        def chain_exported() -> bool:
            names = [s["name"] for s in otlp_receiver.spans(trace_id)]
            return names.count("webhook.attempt") == 3 and any(
                s["kind"] == SERVER_KIND for s in otlp_receiver.spans(trace_id)
            )

        wait_until(chain_exported, message="the ingest and attempt spans reach the receiver")
        spans = otlp_receiver.spans(trace_id)
        (ingest_span,) = [s for s in spans if s["kind"] == SERVER_KIND]
        assert ingest_span["service"] == "test-web"
        assert "incoming-data" in ingest_span["name"] or "incoming" in str(
            ingest_span["attributes"]
        )
        # The ingest request's own SQL is in the trace too (the event's INSERT).
        assert any(
            s["parent_span_id"] == ingest_span["span_id"]
            and s["scope"] == tracing_django.TRACER_NAME
            and ("INSERT" in s["name"] or "INSERT" in str(s["attributes"]))
            for s in spans
        ), [(s["name"], s["scope"]) for s in spans]
        attempts = [s for s in spans if s["name"] == "webhook.attempt"]
        for span in attempts:
            assert span["service"] == "test-worker"
            assert span["kind"] == CLIENT_KIND
            assert span["parent_span_id"] == ingest_span["span_id"]
        by_destination = {
            (
                s["attributes"]["webhook.destination_id"],
                s["attributes"]["webhook.attempt_number"],
            ): s["attributes"]
            for s in attempts
        }
        assert set(by_destination) == {(first.pk, 1), (second.pk, 1), (second.pk, 2)}
        assert by_destination[(first.pk, 1)]["http.response.status_code"] == 200
        assert by_destination[(second.pk, 1)]["http.response.status_code"] == 503
        assert by_destination[(second.pk, 1)]["webhook.outcome"] == "retry"
        assert by_destination[(second.pk, 2)]["webhook.outcome"] == "success"
        # The readiness probes (/health/) that started the server are not traced.
        servers = [s for s in otlp_receiver.spans() if s["kind"] == SERVER_KIND]
        assert servers and not [s for s in servers if "health" in str(s)], servers
        # Each request's traceparent names the attempt span or the HTTP client span inside it.
        attempt_ids = {s["span_id"] for s in attempts}
        inner_ids = {s["span_id"] for s in spans if s["parent_span_id"] in attempt_ids}
        assert {tp.split("-")[2] for tp in traceparents} <= attempt_ids | inner_ids
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ingest_keeps_answering_when_the_trace_collector_is_unreachable(account, tmp_path):
    """Spans go out from a background thread: a collector that refuses connections costs the
    requests nothing, and every event is stored with its trace context all the same."""
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    server = GunicornProcess(
        tmp_path,
        workers=1,
        extra_env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": nothing_listens,
            "OTEL_BSP_SCHEDULE_DELAY": "50",  # exports (and their failures) while we send
            "OTEL_EXPORTER_OTLP_TIMEOUT": "1",  # the worker's exit does not wait long for it
            "INGEST_THROTTLE_RATE": "none",
        },
    ).start()
    try:
        answers = [ingest(server, account, {"n": n}) for n in range(20)]
    finally:
        server.stop()
    events = Event.objects.filter(event_id__in=[a["event_id"] for a in answers])
    assert events.count() == 20
    assert all(e.traceparent and e.traceparent.startswith("00-") for e in events)
