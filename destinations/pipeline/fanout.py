"""Fan-out: turns stored events into one delivery log per destination that takes them.

Runs in the delivery engines (the worker), never in the ingest request. Each batch is one
transaction: the events are taken and stamped `fanned_out_at` (on PostgreSQL one `UPDATE ...
RETURNING` with `FOR UPDATE SKIP LOCKED`: engines on other machines take other events), and their
logs inserted (on PostgreSQL one `INSERT ... SELECT FROM unnest`). A crash in
the middle rolls the batch back and the events are found again; the unique (event, destination)
constraint makes a repeated fan-out harmless on databases without row locks (SQLite).

A destination takes an event when it subscribes to its type (`event_types`), its `filter` (if
any) matches the payload, and the event is not an operational event about that destination. An
event no destination takes gets no log; it stays stored and can be replayed later.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from backend.common.db import skip_locked
from destinations.models import DeliveryLog, Destination, Event
from destinations.pipeline.event_types import subscribes
from destinations.pipeline.payloads import PayloadError, parse_ingest_body
from destinations.pipeline.rules import matches

Status = DeliveryLog.Status


@dataclass(frozen=True)
class _Target:
    id: int
    is_active: bool
    event_types: list[str]
    rule: dict[str, Any] | None


def _takes(target: _Target, event: Mapping[str, Any], payloads: dict[int, object]) -> bool:
    if event["about_destination_id"] == target.id:
        return False  # never tell a destination about itself (and no loop)
    if not subscribes(target.event_types, event["event_type"] or None):
        return False
    if target.rule is None:
        return True
    return event["id"] in payloads and matches(target.rule, payloads[event["id"]])


def _payloads(event_ids: list[int]) -> dict[int, object]:
    """Parsed payloads (exact numbers) of the events that a filter must look at."""
    parsed: dict[int, object] = {}
    for pk, body in Event.objects.filter(pk__in=event_ids).values_list("id", "body"):
        try:
            parsed[pk] = parse_ingest_body(body.encode("utf-8")).data
        except PayloadError:
            continue  # stored before the parser's rules: a filter does not match it
    return parsed


# PostgreSQL: the batch is taken and stamped in one statement (SKIP LOCKED: engines on other
# machines take other events), and its logs inserted in one.
TAKE_EVENTS_SQL = """
UPDATE destinations_event SET fanned_out_at = %(now)s
WHERE id IN (
    SELECT id FROM destinations_event WHERE fanned_out_at IS NULL
    ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
RETURNING id, account_id, received_at, event_type, about_destination_id
"""
INSERT_LOGS_SQL = """
INSERT INTO destinations_deliverylog
    (event_id, destination_id, account_id, status, next_attempt_at, received_timestamp,
    attempts, round_start_attempts, last_error, created_at, updated_at)
SELECT v.event_id, v.destination_id, v.account_id, v.status,
    CASE WHEN v.status = 'pending' THEN %(now)s END, v.received, 0, 0, '', %(now)s, %(now)s
FROM unnest(%(events)s::bigint[], %(destinations)s::bigint[], %(accounts)s::bigint[],
    %(statuses)s::varchar[], %(received)s::timestamptz[])
    AS v(event_id, destination_id, account_id, status, received)
ON CONFLICT DO NOTHING
"""
EVENT_FIELDS = ("id", "account_id", "received_at", "event_type", "about_destination_id")


def _take_events(*, batch_size: int, now: datetime) -> list[dict[str, Any]]:
    """The oldest waiting events, stamped fanned out (in the caller's transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(TAKE_EVENTS_SQL, {"now": now, "limit": batch_size})
            rows = cursor.fetchall()
        return sorted((dict(zip(EVENT_FIELDS, row, strict=True)) for row in rows), key=_by_id)
    events = list(
        skip_locked(Event.objects.filter(fanned_out_at__isnull=True).order_by("id")).values(
            *EVENT_FIELDS
        )[:batch_size]
    )
    Event.objects.filter(pk__in=[e["id"] for e in events]).update(fanned_out_at=now)
    return events


def _by_id(event: dict[str, Any]) -> int:
    return int(event["id"])


def _insert_logs(*, logs: list[tuple[Mapping[str, Any], _Target]], now: datetime) -> None:
    if not logs:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                INSERT_LOGS_SQL,
                {
                    "now": now,
                    "events": [event["id"] for event, _ in logs],
                    "destinations": [target.id for _, target in logs],
                    "accounts": [event["account_id"] for event, _ in logs],
                    "statuses": [
                        Status.PENDING if target.is_active else Status.HELD for _, target in logs
                    ],
                    "received": [event["received_at"] for event, _ in logs],
                },
            )
        return
    DeliveryLog.objects.bulk_create(
        [
            DeliveryLog(
                event_id=event["id"],
                destination_id=target.id,
                account_id=event["account_id"],
                status=Status.PENDING if target.is_active else Status.HELD,
                next_attempt_at=now if target.is_active else None,
                received_timestamp=event["received_at"],
                created_at=now,
                updated_at=now,
            )
            for event, target in logs
        ],
        ignore_conflicts=True,
    )


def events_fan_out(*, batch_size: int | None = None) -> int:
    """Fans out up to `batch_size` waiting events, oldest first; returns how many."""
    batch_size = batch_size or settings.DELIVERY_FANOUT_BATCH
    with transaction.atomic():
        now = timezone.now()
        events = _take_events(batch_size=batch_size, now=now)
        if not events:
            return 0
        targets: dict[int, list[_Target]] = {}
        for row in (
            Destination.objects.filter(account_id__in={e["account_id"] for e in events})
            .order_by("id")
            .values("id", "account_id", "is_active", "event_types", "filter")
        ):
            targets.setdefault(row["account_id"], []).append(
                _Target(row["id"], row["is_active"], row["event_types"] or [], row["filter"])
            )
        filtered_accounts = {a for a, ts in targets.items() if any(t.rule is not None for t in ts)}
        payloads = _payloads([e["id"] for e in events if e["account_id"] in filtered_accounts])
        _insert_logs(
            logs=[
                (event, target)
                for event in events
                for target in targets.get(event["account_id"], [])
                if _takes(target, event, payloads)
            ],
            now=now,
        )
    return len(events)
