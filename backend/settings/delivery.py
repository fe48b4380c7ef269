"""Ingest and delivery in `destinations`: body limits, the SSRF guard's exceptions, the retry
schedule, timeouts and leases, the delivery engine and its isolation (per-destination cap, circuit
breaker), auto-disable, caches, retention, and the operators' pipeline gauges.

Imported by base.py after the Celery settings it extends.
"""

from celery.schedules import crontab

from backend.env import env
from backend.settings.celery import CELERY_BEAT_SCHEDULE

INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=1024 * 1024)
DESTINATION_ALLOWED_HOSTS = env.list("DESTINATION_ALLOWED_HOSTS", default=[])
# Delay before each delivery attempt (seconds); len() is the maximum number of attempts (Svix-like).
DELIVERY_RETRY_SCHEDULE = [
    int(float(step))
    for step in env.str(
        "DELIVERY_RETRY_SCHEDULE", default="0,5,300,1800,7200,18000,36000,36000"
    ).split(",")
    if step.strip()
] or [0]
# Share of each retry step that is randomized (1.0 = full jitter: uniform in [0, step]).
DELIVERY_RETRY_JITTER = env.float("DELIVERY_RETRY_JITTER", default=1.0)
# A destination's Retry-After is honoured up to this many seconds.
DELIVERY_RETRY_AFTER_MAX_SECONDS = env.int("DELIVERY_RETRY_AFTER_MAX_SECONDS", default=3600)
DELIVERY_CONNECT_TIMEOUT = env.float("DELIVERY_CONNECT_TIMEOUT", default=5.0)
DELIVERY_READ_TIMEOUT = env.float("DELIVERY_READ_TIMEOUT", default=15.0)
# A claimed log is the engine's for this long; the engine renews it every
# DELIVERY_HEARTBEAT_SECONDS while the call is in flight, so it runs out only when the engine
# died: then another engine takes the delivery over (and records the lost attempt).
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=8)
DELIVERY_HEARTBEAT_SECONDS = env.float("DELIVERY_HEARTBEAT_SECONDS", default=2.0)
# Delivery engine (one per worker process; `off` for workers meant for other tasks only).
DELIVERY_ENGINE = env.str("DELIVERY_ENGINE", default="on")
# HTTP calls in flight per worker process (tasks on its engine's event loop).
DELIVERY_CONCURRENCY = env.int("DELIVERY_CONCURRENCY", default=128)
# Isolation: claims in flight to one destination at once, across every engine.
DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION = env.int(
    "DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION", default=64
)
DELIVERY_FANOUT_BATCH = env.int("DELIVERY_FANOUT_BATCH", default=200)
# Engine loop: it wakes on work (a finished call, a new event by PostgreSQL NOTIFY, the next
# retry or lease due); this is the safety net (and SQLite's only way to see new events).
DELIVERY_POLL_FALLBACK_SECONDS = env.float("DELIVERY_POLL_FALLBACK_SECONDS", default=1.0)
# Turns at most this often, so that under load one turn records and claims a whole batch.
DELIVERY_TURN_MIN_SECONDS = env.float("DELIVERY_TURN_MIN_SECONDS", default=0.05)
# With no backlog (the last claim took everything due and filled no destination), finished calls
# and new events gather this long between turns: a turn costs the same few statements whatever it
# carries, so under a steady trickle fewer, fuller turns cost less CPU per delivery (README,
# "Mixed load"); a delivery then starts up to this much later.
DELIVERY_TURN_GATHER_SECONDS = env.float("DELIVERY_TURN_GATHER_SECONDS", default=0.2)
# Extra trust roots (PEM) for HTTPS destinations, beside the system's (e.g. a private CA).
DELIVERY_CA_BUNDLE = env.str("DELIVERY_CA_BUNDLE", default="")
# Tests: a JSON file {host: [addresses]} the delivery resolver consults before DNS.
DELIVERY_HOSTS_FILE = env.str("DELIVERY_HOSTS_FILE", default="")
# Circuit breaker: failed attempts in a row that open it, and its cooling (doubling per trip).
DELIVERY_BREAKER_THRESHOLD = env.int("DELIVERY_BREAKER_THRESHOLD", default=5)
DELIVERY_BREAKER_COOLING_SECONDS = env.float("DELIVERY_BREAKER_COOLING_SECONDS", default=10.0)
DELIVERY_BREAKER_MAX_COOLING_SECONDS = env.float(
    "DELIVERY_BREAKER_MAX_COOLING_SECONDS", default=600.0
)
# Auto-disable: every attempt failing for this long, or this many logs failed in a row (0 = off).
DESTINATION_DISABLE_AFTER_SECONDS = env.int("DESTINATION_DISABLE_AFTER_SECONDS", default=5 * 86400)
DESTINATION_DISABLE_AFTER_FAILED_LOGS = env.int("DESTINATION_DISABLE_AFTER_FAILED_LOGS", default=0)
DESTINATION_MAX_HEADERS = env.int("DESTINATION_MAX_HEADERS", default=20)
LOGS_CACHE_SECONDS = env.int("LOGS_CACHE_SECONDS", default=300)
# CL-X-TOKEN → account in the shared cache (a rotation drops the old token at once).
APP_TOKEN_CACHE_SECONDS = env.int("APP_TOKEN_CACHE_SECONDS", default=300)
# Ingest credential answers in the shared cache (token denylist aside): a user's active flag, a
# membership, an API key's snapshot. Changes mark them at once; this bounds only what a change
# made while Redis was unreachable could leave behind (backend/common/fact_cache.py).
INGEST_AUTH_CACHE_SECONDS = env.int("INGEST_AUTH_CACHE_SECONDS", default=300)
# Retention: events older than this whose deliveries all finished are deleted (0 keeps all).
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=30)
EVENT_RETENTION_BATCH = env.int("EVENT_RETENTION_BATCH", default=1000)
CELERY_BEAT_SCHEDULE["destinations-purge-old-events"] = {
    "task": "destinations.purge_old_events",
    "schedule": crontab(minute=23),  # hourly, in bounded batches
}
# Operators (SPEC section 13): the pipeline gauges (backlog, oldest due, open breakers) are read
# from the database at most this often, whatever the scrape rate; the worker's metrics endpoint
# serves them (extra collectors it registers once Django is set up).
PIPELINE_GAUGES_MAX_AGE_SECONDS = env.float("PIPELINE_GAUGES_MAX_AGE_SECONDS", default=15.0)
WORKER_METRICS_COLLECTORS = ["destinations.metrics.PipelineHealthCollector"]
