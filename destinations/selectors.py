"""Reads of the destinations app, scoped by account."""

from django.db.models import QuerySet

from destinations.models import DeliveryLog, Destination


def destination_list(*, account_id: int) -> QuerySet[Destination]:
    return Destination.objects.filter(account_id=account_id).order_by("id")


def destination_get(*, destination_id) -> Destination | None:
    return Destination.objects.select_related("account").filter(pk=destination_id).first()


def delivery_log_list(*, account_id: int) -> QuerySet[DeliveryLog]:
    # The payload can be large and the list does not show it.
    return (
        DeliveryLog.objects.filter(account_id=account_id)
        .select_related("event")
        .defer("event__body")
        .order_by("-received_timestamp", "-id")
    )


def delivery_log_get(*, log_id) -> DeliveryLog | None:
    return (
        DeliveryLog.objects.select_related("event", "destination")
        .prefetch_related("attempt_set")
        .filter(pk=log_id)
        .first()
    )
