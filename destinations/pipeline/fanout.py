"""Fan-out: turns stored events into one delivery log per destination that takes them.

Runs in the delivery engines (the worker), never in the ingest request. Each batch is one
transaction: the events are taken with `FOR UPDATE SKIP LOCKED` (engines on other machines take
other events), their logs are inserted, and the events are stamped `fanned_out_at`. A crash in
the middle rolls the batch back and the events are found again; the unique (event, destination)
constraint makes a repeated fan-out harmless on databases without row locks (SQLite).

A destination takes an event when it subscribes to its type (`event_types`), its `filter` (if
any) matches the payload, and the event is not an operational event about that destination. An
event no destination takes gets no log; it stays stored and can be replayed later.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
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


def events_fan_out(*, batch_size: int | None = None) -> int:
    """Fans out up to `batch_size` waiting events, oldest first; returns how many."""
    batch_size = batch_size or settings.DELIVERY_FANOUT_BATCH
    with transaction.atomic():
        events = list(
            skip_locked(Event.objects.filter(fanned_out_at__isnull=True).order_by("id")).values(
                "id", "account_id", "received_at", "event_type", "about_destination_id"
            )[:batch_size]
        )
        if not events:
            return 0
        now = timezone.now()
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
        logs = [
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
            for event in events
            for target in targets.get(event["account_id"], [])
            if _takes(target, event, payloads)
        ]
        if logs:
            DeliveryLog.objects.bulk_create(logs, ignore_conflicts=True)
        Event.objects.filter(pk__in=[e["id"] for e in events]).update(fanned_out_at=now)
    return len(events)
