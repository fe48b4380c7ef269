"""Attempts and their outcomes: one HTTP call per claimed job, results recorded in batches.

`attempt_send` runs on an engine's event loop and touches no database. `outcomes_record` writes a
batch of results: one UPDATE of every log (`outcome_writes`), one INSERT of the attempt rows, and
the destinations' health (breaker, auto-disable). The UPDATE is conditioned on the claim token,
so a log another engine took over (expired lease) keeps that engine's result.
"""

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from destinations import metrics
from destinations.models import DeliveryAttempt, DeliveryLog
from destinations.pipeline.breaker import destinations_health_record
from destinations.pipeline.claims import DeliveryJob
from destinations.pipeline.event_types import SYSTEM_DELIVERY_FAILED, is_system_event_type
from destinations.pipeline.ingest import system_event_emit
from destinations.pipeline.outcome_writes import LogChange, logs_finish
from destinations.pipeline.tracing import attempt_headers, attempt_span
from destinations.pipeline.transports import HttpResult, delivery_client, send

logger = logging.getLogger(__name__)

Status = DeliveryLog.Status
Outcome = DeliveryAttempt.Outcome
RETRYABLE_STATUS_CODES = {408, 429}
HELD = "held"


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt of a job produced (`outcome` is success, retry, failed or held)."""

    job: DeliveryJob
    outcome: str
    error: str = ""
    http: HttpResult | None = None
    started_at: datetime | None = None
    duration: float = 0.0

    @property
    def status_code(self) -> int | None:
        return self.http.status_code if self.http else None


def retry_delay(*, attempt_number: int, retry_after: float | None = None) -> float:
    """Seconds before the attempt after `attempt_number` (1-based, within the round), jittered,
    Retry-After honoured."""
    schedule = settings.DELIVERY_RETRY_SCHEDULE
    step = float(schedule[min(attempt_number, len(schedule) - 1)])
    jitter = min(max(settings.DELIVERY_RETRY_JITTER, 0.0), 1.0)
    delay = step * (1 - jitter) + random.uniform(0, step * jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.DELIVERY_RETRY_AFTER_MAX_SECONDS))
    return float(delay)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds, from delta-seconds or an HTTP date; None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max((when - timezone.now()).total_seconds(), 0.0)


def classify(result: HttpResult) -> tuple[str, str]:
    """(outcome, error) of one attempt: outcome is success, retry or failed."""
    code = result.status_code
    if result.refused:
        return Outcome.FAILED, f"Refused by the SSRF guard: {result.error}"
    if code is None:
        return Outcome.RETRY, result.error or "No response."
    if 200 <= code < 300:
        return Outcome.SUCCESS, ""
    if 300 <= code < 400:
        return (
            Outcome.FAILED,
            f"HTTP {code}: redirects are not followed (destination URLs must answer directly).",
        )
    if code in RETRYABLE_STATUS_CODES or code >= 500:
        return Outcome.RETRY, f"HTTP {code}."
    if code == 410:
        return Outcome.FAILED, "HTTP 410 Gone: the destination was disabled."
    return Outcome.FAILED, f"HTTP {code}: not retried."


async def attempt_send(job: DeliveryJob, session: aiohttp.ClientSession) -> AttemptResult:
    """Makes the HTTP attempt of a claimed job on the engine's loop (no database access)."""
    if not job.destination_active:
        return AttemptResult(job=job, outcome=HELD)
    started = timezone.now()
    clock = time.monotonic()
    # --- tracing hook (begin): the attempt's span, and its traceparent on the request
    with attempt_span(
        traceparent=job.traceparent,
        destination_id=job.destination_id,
        attempt_number=job.attempt_number,
        log_id=job.log_id,
        event_id=job.msg_id,
        url=job.url,
        method=job.method,
    ) as span:
        http = await send(
            session,
            method=job.method,
            url=job.url,
            headers={**job.headers, **attempt_headers()},
            body=job.body,
            msg_id=job.msg_id,
            timestamp=int(started.timestamp()),
            signing_secrets=job.signing_secrets,
            event_type=job.event_type,
        )
        outcome, error = classify(http)
        span.record(status_code=http.status_code, outcome=outcome, error=http.error)
    # --- tracing hook (end)
    duration = time.monotonic() - clock
    if outcome == Outcome.RETRY and job.round_attempt >= len(settings.DELIVERY_RETRY_SCHEDULE):
        outcome = Outcome.FAILED
        error = f"{error} Giving up after {job.round_attempt} attempts."
    return AttemptResult(
        job=job, outcome=outcome, error=error, http=http, started_at=started, duration=duration
    )


def attempt_send_now(job: DeliveryJob) -> AttemptResult:
    """One attempt outside an engine (this thread, a short-lived loop and client)."""

    async def once() -> AttemptResult:
        async with delivery_client(concurrency=1) as session:
            return await attempt_send(job, session)

    return asyncio.run(once())


def outcomes_record(results: list[AttemptResult]) -> dict[int, str]:
    """Writes a batch of results; returns {log_id: outcome} for the logs this engine still held
    (a log whose lease another engine took over is left out: its result stands, and that
    engine recorded this send as the lost attempt)."""
    if not results:
        return {}
    now = timezone.now()
    with transaction.atomic():
        mine = logs_finish(
            changes=[
                LogChange(
                    log_id=r.job.log_id, claim_token=r.job.claim_token, **_log_changes(r, now)
                )
                for r in results
            ],
            now=now,
        )
        recorded = {r.job.log_id: r.outcome for r in results if r.job.log_id in mine}
        attempts = [r for r in results if r.outcome != HELD and r.job.log_id in mine]
        DeliveryAttempt.objects.bulk_create(
            [
                DeliveryAttempt(
                    log_id=r.job.log_id,
                    destination_id=r.job.destination_id,  # else the database's trigger looks it up
                    attempt_number=r.job.attempt_number,
                    started_at=r.started_at or now,
                    duration_ms=int(r.duration * 1000),
                    status_code=r.status_code,
                    error=r.error[:2000],
                    response_body=r.http.body if r.http else "",
                    outcome=r.outcome,
                )
                for r in attempts
            ]
        )
        destinations_health_record(results=attempts, now=now)
        for r in attempts:
            if r.outcome == Outcome.FAILED:
                _emit_delivery_failed(r)
    _count(results, recorded, now)
    return recorded


def _log_changes(r: AttemptResult, now: datetime) -> dict[str, Any]:
    """The log's new state after a result."""
    if r.outcome == HELD:
        return {"status": Status.HELD, "keeps_last_result": True}
    changes: dict[str, Any] = {"last_status_code": r.status_code, "last_error": r.error[:2000]}
    if r.outcome == Outcome.SUCCESS:
        return {**changes, "status": Status.SUCCESS, "processed_timestamp": now}
    if r.outcome == Outcome.RETRY:
        headers = (r.http.headers if r.http else None) or {}
        retry_after = parse_retry_after(headers.get("Retry-After"))
        delay = retry_delay(attempt_number=r.job.round_attempt, retry_after=retry_after)
        return {
            **changes,
            "status": Status.PENDING,
            "next_attempt_at": now + timedelta(seconds=delay),
        }
    return {**changes, "status": Status.FAILED, "processed_timestamp": now}


def _emit_delivery_failed(r: AttemptResult) -> None:
    """`system.delivery.failed` for a log that finally failed; an operational event's own
    failure emits nothing (no loop)."""
    if is_system_event_type(r.job.event_type):
        return
    system_event_emit(
        account_id=r.job.account_id,
        event_type=SYSTEM_DELIVERY_FAILED,
        payload={
            "log_id": r.job.log_id,
            "event_id": r.job.msg_id,
            "destination_id": r.job.destination_id,
            "attempts": r.job.attempt_number,
            "last_status_code": r.status_code,
            "last_error": r.error[:2000],
        },
        about_destination_id=r.job.destination_id,
    )


def _count(results: list[AttemptResult], recorded: dict[int, str], now: datetime) -> None:
    for r in results:
        if r.outcome != HELD:
            metrics.DELIVERY_ATTEMPTS.labels(r.outcome).inc()
            metrics.ATTEMPT_DURATION.observe(r.duration)
        final = recorded.get(r.job.log_id)
        if final in (Outcome.SUCCESS, Outcome.FAILED, HELD):
            metrics.DELIVERIES.labels(final).inc()
            if final != HELD:
                metrics.DELIVERY_LATENCY.observe((now - r.job.received_timestamp).total_seconds())
