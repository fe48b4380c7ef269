"""Spans of requests and SQL (backend/common/tracing_django.py), in-process.

The middleware runs in the real chain (the test client with it outermost, as `tracing.setup()`
puts it) and SQL goes through the real database; only the tracer is a local one whose spans are
kept in memory, so nothing global changes. The chain across processes (gunicorn, worker, OTLP)
is tests/destinations/test_tracing.py.
"""

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
from django.test import override_settings
from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    StatusCode,
    TraceFlags,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.http import ExcludeList
from rest_framework.test import APIClient

from backend.common import tracing, tracing_django
from destinations.models import Event
from destinations.pipeline.tracing import current_traceparent
from tests.factories import AccountFactory

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def spans(monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing_django, "_tracer", provider.get_tracer("test"))
    monkeypatch.setattr(tracing_django, "_excluded", ExcludeList(["/health/"]))
    # The pipeline's hooks on (the stored traceparent), without the process-wide setup.
    monkeypatch.setattr(tracing, "_enabled", True)
    yield exporter
    provider.shutdown()


@pytest.fixture
def traced_client(spans):
    chain = [tracing_django.MIDDLEWARE_PATH, *settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=chain), connection.execute_wrapper(tracing_django.query_span):
        yield APIClient()


def by_kind(exporter, kind):
    return [s for s in exporter.get_finished_spans() if s.kind == kind]


@pytest.mark.django_db
def test_an_ingest_call_continues_the_callers_trace_with_its_insert_inside(traced_client, spans):
    account = AccountFactory()
    response = traced_client.post(
        "/api/v1/incoming-data/",
        data={"secret": "s3cr3t-value"},
        format="json",
        HTTP_CL_X_TOKEN=str(account.app_secret_token),
        HTTP_TRACEPARENT=f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
    )
    assert response.status_code == 200, response.content
    (server,) = by_kind(spans, SpanKind.SERVER)
    assert f"{server.context.trace_id:032x}" == CALLER_TRACE
    assert f"{server.parent.span_id:016x}" == CALLER_SPAN
    # Named after the route, never the raw path.
    assert server.name == f"POST {server.attributes['http.route']}"
    assert "incoming-data" in server.attributes["http.route"]
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["url.path"] == "/api/v1/incoming-data/"
    assert server.attributes["http.response.status_code"] == 200
    assert server.status.status_code == StatusCode.UNSET
    inserts = [s for s in by_kind(spans, SpanKind.CLIENT) if s.name == "INSERT"]
    assert inserts and all(s.parent.span_id == server.context.span_id for s in inserts)
    statement = inserts[-1].attributes["db.statement"]
    assert "destinations_event" in statement
    assert "s3cr3t-value" not in statement  # parameters stay out of traces
    assert inserts[-1].attributes["db.system"] == connection.vendor
    # The event stores the request span's context: the worker's attempts join this trace.
    event = Event.objects.get(event_id=response.json()["event_id"])
    assert event.traceparent == f"00-{CALLER_TRACE}-{server.context.span_id:016x}-01"


@pytest.mark.django_db
def test_a_route_with_an_id_is_named_by_its_pattern_and_an_error_answer_is_not_an_error_span(
    traced_client, spans
):
    response = traced_client.get("/api/v1/destinations/12345/")
    assert response.status_code == 401
    (server,) = by_kind(spans, SpanKind.SERVER)
    assert "12345" not in server.name and server.name.startswith("GET ")
    assert server.attributes["http.response.status_code"] == 401
    assert server.attributes["url.path"] == "/api/v1/destinations/12345/"
    assert server.status.status_code == StatusCode.UNSET  # a 4xx is the caller's error
    # Without a caller's context it starts a trace of its own.
    assert server.parent is None


@pytest.mark.django_db
def test_excluded_paths_make_no_span(traced_client, spans):
    assert traced_client.get("/api/v1/health/").status_code == 200
    assert traced_client.get("/health/").status_code == 200
    assert spans.get_finished_spans() == ()


def test_a_server_error_and_an_exception_mark_the_span(spans):
    def answer_500(request):
        return type("Response", (), {"status_code": 503})()

    def explode(request):
        raise RuntimeError("boom")

    request = type(
        "Request",
        (),
        {"path_info": "/x/", "method": "GET", "scheme": "http", "META": {}, "resolver_match": None},
    )()
    tracing_django.RequestSpanMiddleware(answer_500)(request)
    with pytest.raises(RuntimeError):
        tracing_django.RequestSpanMiddleware(explode)(request)
    failed, raised = spans.get_finished_spans()
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.attributes["http.response.status_code"] == 503
    assert raised.status.status_code == StatusCode.ERROR
    assert [e.name for e in raised.events] == ["exception"]
    # The context is restored: nothing stays current after the request.
    assert not trace.get_current_span().is_recording()


@pytest.mark.django_db
def test_sql_outside_any_span_makes_no_span_and_a_failing_statement_is_an_error(spans):
    with connection.execute_wrapper(tracing_django.query_span):
        assert Event.objects.count() >= 0  # no request, no task: the engine's polling
        assert spans.get_finished_spans() == ()
        parent = tracing_django._tracer.start_span("task")
        token = context.attach(trace.set_span_in_context(parent))
        try:
            with pytest.raises(Exception), connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table_here")
        finally:
            context.detach(token)
            parent.end()
    (failed,) = [s for s in spans.get_finished_spans() if s.name == "SELECT"]
    assert failed.parent.span_id == parent.context.span_id
    assert failed.status.status_code == StatusCode.ERROR


def test_every_connection_gets_the_query_spans_once():
    wrappers = connection.execute_wrappers
    before = list(wrappers)
    try:
        tracing_django.trace_queries(sender=None, connection=connection)
        tracing_django.trace_queries(sender=None, connection=connection)  # a reconnection
        assert wrappers.count(tracing_django.query_span) == 1
    finally:
        wrappers[:] = before


def test_install_puts_the_middleware_outermost_once_and_reads_the_excluded_paths(monkeypatch):
    class Settings:
        MIDDLEWARE = ["a.Middleware", "b.Middleware"]

    monkeypatch.setattr(tracing_django, "_excluded", tracing_django._excluded)
    try:
        tracing_django.install(Settings, "/health/, ^/status$")
        tracing_django.install(Settings, "/health/, ^/status$")
    finally:
        connection_created.disconnect(dispatch_uid="tracing.trace_queries")
    assert Settings.MIDDLEWARE == [tracing_django.MIDDLEWARE_PATH, "a.Middleware", "b.Middleware"]
    assert tracing_django._excluded.url_disabled("/api/v1/health/")
    assert tracing_django._excluded.url_disabled("/status")
    assert not tracing_django._excluded.url_disabled("/status/more")
    assert not tracing_django._excluded.url_disabled("/api/v1/incoming-data/")


@pytest.mark.django_db
def test_a_malformed_traceparent_starts_a_trace_of_its_own(traced_client, spans):
    account = AccountFactory()
    response = traced_client.post(
        "/api/v1/incoming-data/",
        data={"a": 1},
        format="json",
        HTTP_CL_X_TOKEN=str(account.app_secret_token),
        HTTP_TRACEPARENT="00-not-a-trace-id-01",
    )
    assert response.status_code == 200, response.content
    (server,) = by_kind(spans, SpanKind.SERVER)
    assert server.parent is None and server.context.is_valid
    event = Event.objects.get(event_id=response.json()["event_id"])
    ctx = server.context
    assert event.traceparent == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"


@pytest.mark.parametrize("sampled", [True, False])
def test_the_stored_traceparent_is_what_the_w3c_propagator_writes(spans, sampled):
    """`current_traceparent` formats the header itself (cheaper): it must match the library's."""
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    span = NonRecordingSpan(
        SpanContext(trace_id=0xABC, span_id=0x123, is_remote=False, trace_flags=flags)
    )
    token = context.attach(trace.set_span_in_context(span))
    try:
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier)
        assert current_traceparent() == carrier["traceparent"]
        assert current_traceparent().endswith("-01" if sampled else "-00")
    finally:
        context.detach(token)
    assert current_traceparent() is None  # no span: nothing to store


def test_a_views_exception_is_recorded_on_the_request_span(spans):
    middleware = tracing_django.RequestSpanMiddleware(lambda request: None)
    parent = tracing_django._tracer.start_span("request")
    token = context.attach(trace.set_span_in_context(parent))
    try:
        middleware.process_exception(None, ValueError("bad"))
    finally:
        context.detach(token)
        parent.end()
    (span,) = spans.get_finished_spans()
    assert [e.attributes["exception.type"] for e in span.events] == ["ValueError"]
    # Outside any span it records nothing, and does not fail.
    middleware.process_exception(None, ValueError("bad"))
    assert len(spans.get_finished_spans()) == 1
