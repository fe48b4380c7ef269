"""Ingest and delivery in `destinations`: body limits, the SSRF guard's exceptions, the retry
schedule, timeouts and leases, the delivery engine and its isolation (per-destination cap, circuit
breaker), auto-disable, caches, retention, and the embedded broker's polling.

Imported by base.py after the Celery settings it extends.
"""

from celery.schedules import crontab

from backend.env import env
from backend.settings.celery import (
    CELERY_BEAT_SCHEDULE,
)

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
# A claimed log is the engine's for this long: one attempt (both timeouts) plus bookkeeping. A
# killed worker's deliveries are taken over by another engine when it ends.
DELIVERY_LEASE_SECONDS = env.int(
    "DELIVERY_LEASE_SECONDS", default=int(DELIVERY_CONNECT_TIMEOUT + DELIVERY_READ_TIMEOUT) + 10
)
# Delivery engine (one per worker process; `off` for workers meant for other tasks only).
DELIVERY_ENGINE = env.str("DELIVERY_ENGINE", default="on")
# HTTP calls in flight per worker process (threads of its engine's pool).
DELIVERY_CONCURRENCY = env.int("DELIVERY_CONCURRENCY", default=128)
# Isolation: claims in flight to one destination at once, across every engine.
DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION = env.int(
    "DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION", default=64
)
DELIVERY_FANOUT_BATCH = env.int("DELIVERY_FANOUT_BATCH", default=200)
# Engine loop: pause between busy turns; idle polling backs off from MIN to MAX.
DELIVERY_TICK_SECONDS = env.float("DELIVERY_TICK_SECONDS", default=0.01)
DELIVERY_POLL_MIN_SECONDS = env.float("DELIVERY_POLL_MIN_SECONDS", default=0.02)
DELIVERY_POLL_MAX_SECONDS = env.float("DELIVERY_POLL_MAX_SECONDS", default=0.25)
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
# Retention: events older than this whose deliveries all finished are deleted (0 keeps all).
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=30)
EVENT_RETENTION_BATCH = env.int("EVENT_RETENTION_BATCH", default=1000)
CELERY_BEAT_SCHEDULE["destinations-purge-old-events"] = {
    "task": "destinations.purge_old_events",
    "schedule": crontab(minute=23),  # hourly, in bounded batches
}
