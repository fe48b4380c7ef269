"""Fan-out: turns stored events into one delivery log per destination of their account.

Runs in the delivery engines (the worker), never in the ingest request. Each batch is one
transaction: the events are taken with `FOR UPDATE SKIP LOCKED` (engines on other machines take
other events), their logs are inserted, and the events are stamped `fanned_out_at`. A crash in
the middle rolls the batch back and the events are found again; the unique (event, destination)
constraint makes a repeated fan-out harmless on databases without row locks (SQLite).
"""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from destinations.models import DeliveryLog, Destination, Event

Status = DeliveryLog.Status


def _locked(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def events_fan_out(*, batch_size: int | None = None) -> int:
    """Fans out up to `batch_size` waiting events, oldest first; returns how many."""
    batch_size = batch_size or settings.DELIVERY_FANOUT_BATCH
    with transaction.atomic():
        events = list(
            _locked(Event.objects.filter(fanned_out_at__isnull=True).order_by("id")).values_list(
                "id", "account_id", "received_at"
            )[:batch_size]
        )
        if not events:
            return 0
        now = timezone.now()
        destinations_by_account: dict[int, list[tuple[int, bool]]] = {}
        for destination_id, account_id, is_active in (
            Destination.objects.filter(account_id__in={event[1] for event in events})
            .order_by("id")
            .values_list("id", "account_id", "is_active")
        ):
            destinations_by_account.setdefault(account_id, []).append((destination_id, is_active))
        logs = [
            DeliveryLog(
                event_id=event_pk,
                destination_id=destination_id,
                account_id=account_id,
                status=Status.PENDING if is_active else Status.HELD,
                next_attempt_at=now if is_active else None,
                received_timestamp=received_at,
                created_at=now,
                updated_at=now,
            )
            for event_pk, account_id, received_at in events
            for destination_id, is_active in destinations_by_account.get(account_id, [])
        ]
        if logs:
            DeliveryLog.objects.bulk_create(logs, ignore_conflicts=True)
        Event.objects.filter(pk__in=[event[0] for event in events]).update(fanned_out_at=now)
    return len(events)
