"""Logs filters (seed 003): invalid values are a 400 naming the field, never silently ignored.

Values the database would refuse (a +20:56 offset, an id past bigint, a NUL byte) are invalid
too: the strict filters of backend.common.filters check them before the query runs.
"""

import django_filters

from backend.common.filters import IdFilter, StrictFilterSet, StrictIsoDateTimeFilter, TextFilter
from destinations.models import DeliveryLog


class DeliveryLogFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryLog.Status.choices)
    event_id = TextFilter(field_name="event__event_id", max_length=255)
    event_type = TextFilter(field_name="event__event_type", max_length=100)
    destination_id = IdFilter(field_name="destination_id")
    received_timestamp__gte = StrictIsoDateTimeFilter(
        field_name="received_timestamp", lookup_expr="gte"
    )
    received_timestamp__lte = StrictIsoDateTimeFilter(
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
