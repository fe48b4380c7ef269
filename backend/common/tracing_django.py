"""Spans for Django requests and SQL, through Django's own extension points.

Installed by `tracing.setup()` only when tracing is on. Written here rather than taken from
opentelemetry-instrumentation-django and -psycopg2 because of what those cost on an ingest call
(`bench/_profile_tracing.py`, in-process CPU per call over tracing off): the Django middleware
~+600 us (it builds the absolute URI three times, resolves the URL again for the span's name and
collects some twenty request attributes), the psycopg2 cursor proxy ~+200 us, against a
~1.5 ms call. These do the same job with what Django already knows:

- `RequestSpanMiddleware`: one SERVER span per request, outermost, continuing a W3C
  `traceparent` the caller sent; named `METHOD route` once the URL is resolved (the route
  pattern, never the raw path: bounded names); the stable HTTP attributes; status >= 500 or an
  exception marks it an error.
- `query_span`: a CLIENT span per SQL statement, as a `connection.execute_wrapper` on every
  connection (PostgreSQL and SQLite alike), made only inside a recording span (a request, a
  task, an attempt): the delivery engine's own polling outside any span starts no trace.
"""

from collections.abc import Callable
from typing import Any

from django.db.backends.signals import connection_created
from opentelemetry import context, trace
from opentelemetry.propagate import extract
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.http import ExcludeList

TRACER_NAME = "backend.common.tracing"
MIDDLEWARE_PATH = "backend.common.tracing_django.RequestSpanMiddleware"
_tracer = trace.get_tracer(TRACER_NAME)
_excluded = ExcludeList([])


class MetaGetter(Getter[dict[str, Any]]):
    """Request headers in a WSGI environ (`traceparent` is `HTTP_TRACEPARENT`) for propagators."""

    def get(self, carrier: dict[str, Any], key: str) -> list[str] | None:
        value = carrier.get("HTTP_" + key.upper().replace("-", "_"))
        return None if value is None else [value]

    def keys(self, carrier: dict[str, Any]) -> list[str]:
        return [k[5:].lower().replace("_", "-") for k in carrier if k.startswith("HTTP_")]


_meta_getter = MetaGetter()


class RequestSpanMiddleware:
    def __init__(self, get_response: Callable[[Any], Any]):
        self.get_response = get_response
        self.excluded = _excluded

    def __call__(self, request: Any) -> Any:
        path = request.path_info
        if self.excluded.url_disabled(path):
            return self.get_response(request)
        method = request.method
        span = _tracer.start_span(
            method,
            context=extract(request.META, getter=_meta_getter),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": path,
                "url.scheme": request.scheme,
            },
        )
        token = context.attach(trace.set_span_in_context(span))
        try:
            response = self.get_response(request)
            status = response.status_code
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            match = getattr(request, "resolver_match", None)
            if match is not None and match.route:
                span.update_name(f"{method} {match.route}")
                span.set_attribute("http.route", match.route)
            span.end()
            context.detach(token)

    def process_exception(self, request: Any, exception: Exception) -> None:
        """A view's exception, before Django turns it into a 500: recorded on the span."""
        span = trace.get_current_span()
        if span.is_recording():
            span.record_exception(exception)


def query_span(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: dict[str, Any]
) -> Any:
    if not trace.get_current_span().is_recording():
        return execute(sql, params, many, ctx)
    connection = ctx["connection"]
    # Not made current: nothing runs inside a statement, and attaching costs a context switch.
    span = _tracer.start_span(
        sql.lstrip().split(None, 1)[0].upper() if sql else "SQL",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system": connection.vendor,
            "db.name": str(connection.settings_dict.get("NAME") or ""),
            # Placeholders only: parameters stay out of traces.
            "db.statement": sql,
        },
    )
    try:
        return execute(sql, params, many, ctx)
    except BaseException as exc:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        span.end()


def trace_queries(sender: Any, connection: Any, **kwargs: Any) -> None:
    if query_span not in connection.execute_wrappers:
        connection.execute_wrappers.append(query_span)


def install(settings: Any, excluded_urls: str) -> None:
    """The middleware outermost on every chain, SQL spans on every connection made from now.
    `excluded_urls`: comma-separated regular expressions searched in a request's path; a match
    is not traced."""
    global _excluded
    _excluded = ExcludeList([url.strip() for url in excluded_urls.split(",") if url.strip()])
    if MIDDLEWARE_PATH not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [MIDDLEWARE_PATH, *settings.MIDDLEWARE]
    connection_created.connect(trace_queries, dispatch_uid="tracing.trace_queries")
