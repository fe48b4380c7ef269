"""Ingest and delivery in `destinations`: body limits, the SSRF guard's exceptions, retry
schedule, timeouts, leases, the sweeper, auto-disable, and the embedded broker's polling.

Imported by base.py after the Celery settings it extends.
"""

from backend.env import env
from backend.settings.celery import (
    CELERY_BEAT_SCHEDULE,
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CELERY_BROKER_URL,
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
# Retries due within this many seconds are published with a countdown; later ones are DB-driven
# (next_attempt_at + sweeper): long broker ETAs are never used.
DELIVERY_COUNTDOWN_MAX_SECONDS = env.int("DELIVERY_COUNTDOWN_MAX_SECONDS", default=60)
DELIVERY_CONNECT_TIMEOUT = env.float("DELIVERY_CONNECT_TIMEOUT", default=5.0)
DELIVERY_READ_TIMEOUT = env.float("DELIVERY_READ_TIMEOUT", default=15.0)
# A claimed log is the worker's for this long; must exceed one attempt (timeouts + bookkeeping).
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=120)
# The sweeper re-publishes a due pending log only if it was not published this recently.
DELIVERY_REQUEUE_AFTER_SECONDS = env.int("DELIVERY_REQUEUE_AFTER_SECONDS", default=60)
DELIVERY_SWEEP_INTERVAL_SECONDS = env.float("DELIVERY_SWEEP_INTERVAL_SECONDS", default=5.0)
DELIVERY_SWEEP_BATCH = env.int("DELIVERY_SWEEP_BATCH", default=500)
# Auto-disable: every attempt failing for this long, or this many logs failed in a row (0 = off).
DESTINATION_DISABLE_AFTER_SECONDS = env.int("DESTINATION_DISABLE_AFTER_SECONDS", default=5 * 86400)
DESTINATION_DISABLE_AFTER_FAILED_LOGS = env.int("DESTINATION_DISABLE_AFTER_FAILED_LOGS", default=0)
DESTINATION_MAX_HEADERS = env.int("DESTINATION_MAX_HEADERS", default=20)
LOGS_CACHE_SECONDS = env.int("LOGS_CACHE_SECONDS", default=300)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's virtual transports sleep polling_interval (default 1 s) whenever the prefetch window
    # is full, which caps a worker at ~concurrency deliveries per second on the embedded broker.
    CELERY_BROKER_TRANSPORT_OPTIONS.setdefault(
        "polling_interval", env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.05)
    )
CELERY_BEAT_SCHEDULE["destinations-sweep-pending-deliveries"] = {
    "task": "destinations.sweep_pending_deliveries",
    "schedule": DELIVERY_SWEEP_INTERVAL_SECONDS,
}
