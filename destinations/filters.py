"""Logs filters (seed 003): invalid values are a 400 naming the field, never silently ignored."""

import django_filters
from django import forms

from destinations.models import DeliveryLog


class IntegerFilter(django_filters.NumberFilter):
    """An id filter: "1.5" or "abc" is invalid (NumberFilter alone would accept decimals)."""

    field_class = forms.IntegerField


class DeliveryLogFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryLog.Status.choices)
    event_id = django_filters.CharFilter(field_name="event__event_id", max_length=255)
    event_type = django_filters.CharFilter(field_name="event__event_type", max_length=100)
    destination_id = IntegerFilter(field_name="destination_id", min_value=1)
    received_timestamp__gte = django_filters.IsoDateTimeFilter(
        field_name="received_timestamp", lookup_expr="gte"
    )
    received_timestamp__lte = django_filters.IsoDateTimeFilter(
        field_name="received_timestamp", lookup_expr="lte"
    )

    class Meta:
        model = DeliveryLog
        fields = [
            "status",
            "event_id",
            "event_type",
            "destination_id",
            "received_timestamp__gte",
            "received_timestamp__lte",
        ]
