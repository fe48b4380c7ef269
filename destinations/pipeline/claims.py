"""Claims: which due deliveries an engine takes next, in one batch, fairly across destinations.

A claim stamps due pending logs (and logs whose previous holder's lease expired) `in_progress`
with a lease, the time of the claim and the batch's `claim_token`. Only the token holder may
record an outcome, so a log taken over after its lease expired is never finished twice; the
engine renews its leases while the calls are in flight (`leases_renew`), so a lease runs out only
when its engine died, and then the lost send is recorded as an attempt of unknown outcome.

Claims of all engines follow one another: on PostgreSQL a transaction-level advisory lock taken
first (before any row lock, so it cannot deadlock with outcome writes); SQLite's transactions are
IMMEDIATE, so its writers are serialised anyway. What a claim computes (free slots, rate windows,
FIFO heads) therefore holds across every engine on every machine.

Isolation: a destination never holds more than `DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION` claims at
once (one while its circuit breaker is half-open, none while it is open). Delivery controls (SPEC
section 11): a `rate_limit` counts the claims of the current second in the destination's
`rate_window_*` columns; a FIFO destination gets one claim at a time, always its oldest unfinished
log, and only when that log is due (a retry waiting holds back the later ones).

PostgreSQL: the lock plus one statement (`claim_sql`). SQLite: the same rules with a few ORM
queries (`claim_orm`).
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from destinations.models import DeliveryLog, Destination
from destinations.pipeline.claim_sql import claim_sql

Status = DeliveryLog.Status
# Rows looked at per free slot: room for the per-destination cap to skip some.
CANDIDATES_PER_SLOT = 4
LOST_ATTEMPT_ERROR = "unknown: worker lost"
# Any constant key: every claim of every engine takes this one lock.
CLAIM_LOCK_KEY = 4_815_162_342


@dataclass(frozen=True)
class DeliveryJob:
    """Everything one attempt needs, so the HTTP call runs without touching the database."""

    log_id: int
    claim_token: uuid.UUID
    claimed_at: datetime
    attempt_number: int  # of the log, ever (monotonic)
    round_attempt: int  # within the current round of the retry schedule, 1-based
    account_id: int
    received_timestamp: datetime
    msg_id: str
    event_type: str
    body: str
    destination_id: int
    destination_active: bool
    method: str
    url: str
    headers: dict[str, str]
    signing_secrets: tuple[str, ...]
    traceparent: str | None = None  # tracing hook: the event's trace context (Event.traceparent)
    # This claim took up its destination's free slots: when the call ends, work may be waiting
    # for its slot, so the engine turns at once instead of gathering (see `engine`).
    fills_destination: bool = False


def claims_serialize() -> None:
    """Makes the current transaction's claims follow every other engine's (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK_KEY])


def deliveries_claim(*, limit: int, log_ids: list[int] | None = None) -> list[DeliveryJob]:
    """Claims up to `limit` due deliveries for this engine; returns their jobs."""
    if limit <= 0:
        return []
    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        claims_serialize()
        if connection.vendor == "postgresql":
            return _claim_postgresql(limit=limit, log_ids=log_ids, now=now, token=token)
        # Imported here: claim_orm builds on this module's DeliveryJob and helpers.
        from destinations.pipeline.claim_orm import claim_with_orm

        return claim_with_orm(limit=limit, log_ids=log_ids, now=now, token=token)


def _claim_postgresql(
    *, limit: int, log_ids: list[int] | None, now: datetime, token: uuid.UUID
) -> list[DeliveryJob]:
    params = claim_params(limit=limit, log_ids=log_ids, now=now, token=token)
    with connection.cursor() as cursor:
        cursor.execute(claim_sql(only_some=log_ids is not None), params)
        rows = cursor.fetchall()
    return [_job_from_row(row, token, now) for row in rows]


def claim_params(
    *, limit: int, log_ids: list[int] | None, now: datetime, token: uuid.UUID
) -> dict[str, Any]:
    """The parameters of `claim_sql`."""
    return {
        "now": now,
        "window_start": now - timedelta(seconds=1),
        "cap": settings.DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION,
        "window": limit * CANDIDATES_PER_SLOT,
        "limit": limit,
        "lease_until": now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
        "token": str(token),
        "lost_error": LOST_ATTEMPT_ERROR,
        "log_ids": log_ids or [],
    }


def _job_from_row(row: tuple[Any, ...], token: uuid.UUID, now: datetime) -> DeliveryJob:
    (log_id, attempts, round_start, account_id, received, msg_id, event_type, body) = row[:8]
    (destination_id, active, method, url, headers, secret, previous, expires) = row[8:16]
    traceparent, fills = row[16:18]  # the event's trace context (tracing hook); see DeliveryJob
    if isinstance(headers, str):  # Django reads jsonb as text
        headers = json.loads(headers)
    return DeliveryJob(
        log_id=log_id,
        claim_token=token,
        claimed_at=now,
        attempt_number=attempts,
        round_attempt=attempts - round_start,
        account_id=account_id,
        received_timestamp=received,
        msg_id=msg_id,
        event_type=event_type,
        body=body,
        destination_id=destination_id,
        destination_active=active,
        method=method,
        url=url,
        headers=dict(headers or {}),
        signing_secrets=current_secrets(
            secret=secret, previous=previous, previous_expires_at=expires, now=now
        ),
        traceparent=traceparent,
        fills_destination=bool(fills),
    )


def current_secrets(
    *, secret: str, previous: str, previous_expires_at: datetime | None, now: datetime
) -> tuple[str, ...]:
    """The current secret, and the previous one while its rotation's grace period lasts."""
    if previous and previous_expires_at is not None and previous_expires_at > now:
        return (secret, previous)
    return (secret,)


def signing_secrets(destination: Destination, now: datetime) -> tuple[str, ...]:
    return current_secrets(
        secret=destination.signing_secret,
        previous=destination.previous_signing_secret,
        previous_expires_at=destination.previous_secret_expires_at,
        now=now,
    )


def job_from_log(
    log: DeliveryLog, token: uuid.UUID, now: datetime, *, fills_destination: bool = False
) -> DeliveryJob:
    """The job of a claimed log loaded with its event and destination (the ORM path)."""
    destination = log.destination
    return DeliveryJob(
        log_id=log.pk,
        claim_token=token,
        claimed_at=now,
        attempt_number=log.attempts,
        round_attempt=log.attempts - log.round_start_attempts,
        account_id=log.account_id,
        received_timestamp=log.received_timestamp,
        msg_id=log.event.event_id,
        event_type=log.event.event_type,
        body=log.event.body,
        destination_id=destination.pk,
        destination_active=destination.is_active,
        method=destination.http_method,
        url=destination.url,
        headers=dict(destination.headers or {}),
        signing_secrets=signing_secrets(destination, now),
        traceparent=log.event.traceparent,  # tracing hook
        fills_destination=fills_destination,
    )


def leases_renew(*, tokens: list[uuid.UUID]) -> int:
    """Extends the leases of this engine's claims still in flight (its heartbeat)."""
    if not tokens:
        return 0
    return DeliveryLog.objects.filter(status=Status.IN_PROGRESS, claim_token__in=tokens).update(
        claimed_until=timezone.now() + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    )
