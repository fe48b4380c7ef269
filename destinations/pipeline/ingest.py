"""Ingest: an accepted call costs one INSERT of the event; the fan-out is the worker's.

The event row is the durable record: until a delivery engine fans it out (`fanned_out_at`), it is
found again by every engine's fan-out query, so a crash, a broker outage or a worker that is down
at ingest time loses nothing and the request never waits on anything but the database.
"""

import json
import uuid
from contextlib import nullcontext
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from destinations.models import Event
from destinations.pipeline.event_types import validate_product_event_type
from destinations.pipeline.tracing import current_traceparent


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def event_ingest(
    *, account_id: int, body: str, event_id: str | None = None, event_type: str = ""
) -> tuple[Event, bool]:
    """Stores an event; returns (event, created).

    A repeated `event_id` returns the stored event with created=False and delivers nothing, even
    when two identical requests race: the unique constraint decides, in one round trip for the
    usual (new) case.
    """
    event = Event(
        account_id=account_id,
        event_id=event_id or new_event_id(),
        event_type=event_type,
        body=body,
        received_at=timezone.now(),
        traceparent=current_traceparent(),  # tracing hook: the event joins the request's trace
    )
    # Outside a transaction the INSERT commits by itself (one round trip); inside one (tests,
    # callers' atomic blocks) a savepoint keeps a duplicate from breaking the outer transaction.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with guard:
            event.save(force_insert=True)
    except IntegrityError:
        if not event_id:
            raise
        return Event.objects.get(account_id=account_id, event_id=event_id), False
    return event, True


def system_event_emit(
    *, account_id: int, event_type: str, payload: dict[str, Any], about_destination_id: int
) -> Event:
    """Stores an operational event (`system.*`) of the account; it goes through the same
    pipeline to the destinations that subscribe to it, never to the one it is about. Call it
    inside the transaction that records what happened, so both are kept or neither."""
    validate_product_event_type(event_type)
    return Event.objects.create(
        account_id=account_id,
        event_id=new_event_id(),
        event_type=event_type,
        body=json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str),
        received_at=timezone.now(),
        about_destination_id=about_destination_id,
    )
