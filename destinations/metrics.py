"""Product metrics of ingest and delivery.

Plain prometheus_client metrics, kept in the process that counts them (no round trip per
increment): the web's /metrics shows the ingest counts summed over the gunicorn workers, and the
Celery worker's own metrics endpoint (backend.common.worker_metrics) shows the deliveries.
"""

import logging
import math
import threading
import time
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

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


class PipelineHealthCollector:
    """Gauges of the whole pipeline for alerts: due backlog, age of the oldest due delivery, open
    circuit breakers.

    Served by the worker's metrics endpoint (`WORKER_METRICS_COLLECTORS`). They are read from the
    database with ONE statement (two partial indexes: `dest_log_pending_due_idx`,
    `dest_breaker_tripped_idx`) at most once per `PIPELINE_GAUGES_MAX_AGE_SECONDS`; scrapes in
    between get the cached values, so a busy scraper never becomes database load.
    """

    SQL = (
        "SELECT"
        " (SELECT count(*) FROM destinations_deliverylog"
        "   WHERE status = 'pending' AND next_attempt_at <= %s),"
        " (SELECT min(next_attempt_at) FROM destinations_deliverylog"
        "   WHERE status = 'pending' AND next_attempt_at <= %s),"
        " (SELECT count(*) FROM destinations_destination"
        "   WHERE breaker_trips > 0 AND breaker_open_until > %s)"
    )

    def __init__(self, max_age: float | None = None):
        self._max_age = max_age
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._values: tuple[int, float, int] | None = None
        self.reads = 0  # database reads so far (tests check the caching)

    def _read(self) -> tuple[int, float, int]:
        from django.db import connection
        from django.utils import timezone

        now = timezone.now()
        try:
            with connection.cursor() as cursor:
                cursor.execute(self.SQL, [now, now, now])
                due, oldest, open_breakers = cursor.fetchone()
        finally:
            # The scrape runs in a short-lived server thread: its connection must not linger
            # (inside a transaction, someone else's connection: left alone).
            if not connection.in_atomic_block:
                connection.close()
        if isinstance(oldest, str):  # SQLite hands back text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
        return int(due), age, int(open_breakers)

    def values(self) -> tuple[int, float, int] | None:
        from django.conf import settings

        max_age = self._max_age
        if max_age is None:
            max_age = settings.PIPELINE_GAUGES_MAX_AGE_SECONDS
        with self._lock:
            if time.monotonic() - self._read_at >= max_age:
                self._read_at = time.monotonic()  # a failing database is not asked per scrape
                try:
                    self._values = self._read()
                    self.reads += 1
                except Exception:  # noqa: BLE001 - a scrape never fails on the database
                    logger.warning("Pipeline gauges not read", exc_info=True)
            return self._values

    def collect(self):
        values = self.values()
        if values is None:
            return
        due, oldest_age, open_breakers = values
        yield GaugeMetricFamily(
            "destinations_backlog_due",
            "Pending deliveries whose attempt is due now (all destinations).",
            value=due,
        )
        yield GaugeMetricFamily(
            "destinations_backlog_oldest_due_age_seconds",
            "Seconds since the oldest due pending delivery became due (0: none).",
            value=oldest_age,
        )
        yield GaugeMetricFamily(
            "destinations_breakers_open",
            "Destinations whose circuit breaker is open now (deliveries paused).",
            value=open_breakers,
        )
