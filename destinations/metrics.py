"""Product metrics of deliveries (prometheus_client, module level, exported at /metrics).

The ingest counter is incremented by the web process, so it shows on the web's /metrics.
Delivery counters and histograms are incremented by the Celery worker processes and live there:
scrape the workers separately (or run prometheus_client in multiprocess mode) to see them.
"""

from prometheus_client import Counter, Histogram

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

# Pre-create the label sets so every series shows (at 0) from the first scrape.
for _outcome in ("accepted", "duplicate", "rejected"):
    INGEST_REQUESTS.labels(_outcome)
for _outcome in ("success", "failed", "held"):
    DELIVERIES.labels(_outcome)
for _outcome in ("success", "retry", "failed"):
    DELIVERY_ATTEMPTS.labels(_outcome)
