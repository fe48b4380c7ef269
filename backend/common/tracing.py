"""OpenTelemetry traces, off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (SPEC section 13).

With the endpoint set, every process that sets up Django (web, Celery worker, management
commands) exports spans over OTLP/HTTP (protobuf) to it. Django requests and SQL (any database)
are traced through Django's own hooks (tracing_django.py, measured cheaper than the contrib
instrumentations); Celery tasks and outgoing HTTP (requests, aiohttp client) with the official
opentelemetry-instrumentation packages. The SDK's own variables apply
(`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`...).

Off, nothing is imported and nothing is wrapped: `enabled()` is a module flag read, and the
pipeline's hooks (destinations/pipeline/tracing.py) return at once. The batch span processor
survives forks (gunicorn workers, Celery prefork children): the SDK restarts its thread in the
child.
"""

import importlib.util
import logging
import os

logger = logging.getLogger(__name__)

ENDPOINT_VAR = "OTEL_EXPORTER_OTLP_ENDPOINT"
DEFAULT_SERVICE_NAME = "webhook-backend"
DEFAULT_EXCLUDED_URLS = "/health/,/api/health/,/api/v1/health/,/metrics,/prometheus/metrics"
_enabled = False


def enabled() -> bool:
    """True once `setup()` turned tracing on in this process."""
    return _enabled


def configured() -> bool:
    return bool(os.environ.get(ENDPOINT_VAR, "").strip())


def setup() -> bool:
    """Turns tracing on when configured (idempotent); call while Django sets up, before the WSGI
    handler loads its middleware. Returns whether tracing is on."""
    global _enabled
    if _enabled or not configured():
        return _enabled
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service = os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    # The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces) and its headers itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _instrument_libraries()
    _enabled = True
    logger.info("OpenTelemetry traces exported to %s", os.environ[ENDPOINT_VAR])
    return True


def _instrument_libraries() -> None:
    from django.conf import settings
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    from backend.common import tracing_django

    # Requests and SQL through Django's own hooks (tracing_django says why not the contrib
    # packages). Probes and scrapes (every few seconds) would drown the traces that matter;
    # OTEL_PYTHON_DJANGO_EXCLUDED_URLS replaces this default when set.
    excluded = os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS") or DEFAULT_EXCLUDED_URLS
    tracing_django.install(settings, excluded)
    CeleryInstrumentor().instrument()  # type: ignore[no-untyped-call]  # untyped upstream
    RequestsInstrumentor().instrument()
    # The delivery engine's aiohttp client (the asyncio rewrite); absent before it lands.
    if importlib.util.find_spec("aiohttp") is not None:
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

        AioHttpClientInstrumentor().instrument()


def shutdown() -> None:
    """Flushes the spans still queued (tests, short-lived commands)."""
    if not _enabled:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if force_flush is not None:
        force_flush()
