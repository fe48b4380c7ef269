"""Product metrics of ingest and delivery.

Plain prometheus_client metrics, kept in the process that counts them (no round trip per
increment): the web's /metrics shows the ingest counts summed over the gunicorn workers, and the
Celery worker's own metrics endpoint (backend.common.worker_metrics) shows the deliveries.
"""

from prometheus_client import Counter, Histogram

INGEST_OUTCOMES = ("accepted", "duplicate", "rejected")
DELIVERY_OUTCOMES = ("success", "failed", "held")
ATTEMPT_OUTCOMES = ("success", "retry", "failed")

INGEST_REQUESTS = Counter(
    "destinations_ingest_requests_total",
    "Ingest calls by outcome: accepted (new event), duplicate (repeated event id), rejected.",
    ["outcome"],
)
DELIVERIES = Counter(
    "destinations_deliveries_total",
    "Delivery logs that reached a final state, by outcome (success, failed, held).",
    ["outcome"],
)
DELIVERY_ATTEMPTS = Counter(
    "destinations_delivery_attempts_total",
    "HTTP delivery attempts by outcome (success, retry, failed).",
    ["outcome"],
)
DELIVERY_LATENCY = Histogram(
    "destinations_delivery_latency_seconds",
    "From the event's reception to the log's final status.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400),
)
ATTEMPT_DURATION = Histogram(
    "destinations_delivery_attempt_duration_seconds",
    "Duration of one HTTP delivery attempt.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# Every known outcome is exported from the start (at 0), so rates work before the first event.
for _counter, _outcomes in (
    (INGEST_REQUESTS, INGEST_OUTCOMES),
    (DELIVERIES, DELIVERY_OUTCOMES),
    (DELIVERY_ATTEMPTS, ATTEMPT_OUTCOMES),
):
    for _outcome in _outcomes:
        _counter.labels(_outcome)
