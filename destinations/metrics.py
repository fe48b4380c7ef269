"""Product metrics of ingest and delivery, exported at /metrics.

They are shared metrics (backend.common.shared_metrics): the web processes count ingest calls
and the Celery workers count deliveries, all into the shared cache, so the /metrics of any web
process shows the totals of every process on every machine.
"""

from backend.common.shared_metrics import SharedCounter, SharedHistogram

INGEST_OUTCOMES = ("accepted", "duplicate", "rejected")
DELIVERY_OUTCOMES = ("success", "failed", "held")
ATTEMPT_OUTCOMES = ("success", "retry", "failed")

INGEST_REQUESTS = SharedCounter(
    "destinations_ingest_requests_total",
    "Ingest calls by outcome: accepted (new event), duplicate (repeated event id), rejected.",
    ["outcome"],
    series=lambda: [(o,) for o in INGEST_OUTCOMES],
)
DELIVERIES = SharedCounter(
    "destinations_deliveries_total",
    "Delivery logs that reached a final state, by outcome (success, failed, held).",
    ["outcome"],
    series=lambda: [(o,) for o in DELIVERY_OUTCOMES],
)
DELIVERY_ATTEMPTS = SharedCounter(
    "destinations_delivery_attempts_total",
    "HTTP delivery attempts by outcome (success, retry, failed).",
    ["outcome"],
    series=lambda: [(o,) for o in ATTEMPT_OUTCOMES],
)
DELIVERY_LATENCY = SharedHistogram(
    "destinations_delivery_latency_seconds",
    "From the event's reception to the log's final status.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400),
)
ATTEMPT_DURATION = SharedHistogram(
    "destinations_delivery_attempt_duration_seconds",
    "Duration of one HTTP delivery attempt.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
