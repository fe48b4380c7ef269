"""Input and output serializers of the destinations API."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from backend.common.renderers import RawJSON, is_strict_json_object
from backend.common.serializers import StrictSerializer
from destinations.models import MAX_RATE_LIMIT, DeliveryAttempt, DeliveryLog, Destination
from destinations.pipeline.event_types import validate_event_types
from destinations.pipeline.payloads import payload_for_api
from destinations.pipeline.rules import validate_rule

MAX_GRACE_SECONDS = 7 * 86400
DEFAULT_GRACE_SECONDS = 86400


def _django_to_drf(validator, value):
    try:
        return validator(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


class DestinationInputSerializer(StrictSerializer):
    """Create/update body. URL safety (SSRF) and header rules are checked by the model."""

    url = serializers.CharField(max_length=2048)
    http_method = serializers.ChoiceField(choices=Destination.HttpMethod.choices, required=False)
    headers = serializers.JSONField(required=False)
    is_active = serializers.BooleanField(required=False)
    event_types = serializers.JSONField(
        required=False,
        help_text="Event types to receive: exact names or prefix.* patterns (at most 50); "
        "empty (default): every event except system.* ones.",
    )
    filter = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='A rule on the payload, e.g. {"order.total": {"$gte": 100}}; operators $eq $ne '
        "$in $nin $gt $gte $lt $lte $exists $and $or $not. null: every event.",
    )
    rate_limit = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_RATE_LIMIT,
        help_text="Deliveries per second at most; more wait (none is dropped). null: no limit.",
    )
    fifo = serializers.BooleanField(
        required=False,
        help_text="One delivery at a time in the order events came in; a retry holds back the "
        "later ones.",
    )

    def validate_http_method(self, value: str) -> str:
        return value.upper()

    def to_internal_value(self, data):
        # Accept "post" as well as "POST".
        if isinstance(data, dict) and isinstance(data.get("http_method"), str):
            data = {**data, "http_method": data["http_method"].upper()}
        return super().to_internal_value(data)

    def validate_event_types(self, value):
        return _django_to_drf(validate_event_types, [] if value is None else value)

    def validate_filter(self, value):
        return None if value is None else _django_to_drf(validate_rule, value)

    def validate_headers(self, value):
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError("Headers must be a JSON object of strings.")
        return value


class DestinationOutputSerializer(serializers.ModelSerializer):
    """A destination; `signing_secret` only for the account's Admins (context `show_secret`)."""

    account = serializers.IntegerField(source="account_id", read_only=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)
    updated_by = serializers.UUIDField(source="updated_by_id", read_only=True, allow_null=True)
    signing_secret = serializers.CharField(
        read_only=True, required=False, help_text="Shown to the account's Admins only."
    )

    class Meta:
        model = Destination
        fields = [
            "id",
            "account",
            "url",
            "http_method",
            "headers",
            "is_active",
            "event_types",
            "filter",
            "rate_limit",
            "fifo",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "signing_secret",
            "previous_secret_expires_at",
            "created_by",
            "updated_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_secret"):
            data.pop("signing_secret", None)
        return data


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = [
            "attempt_number",
            "started_at",
            "duration_ms",
            "status_code",
            "error",
            "response_body",
            "outcome",
        ]
        read_only_fields = fields


class DeliveryLogSerializer(serializers.ModelSerializer):
    """A delivery log as listed."""

    event_id = serializers.CharField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    destination_id = serializers.IntegerField(read_only=True)
    account = serializers.IntegerField(source="account_id", read_only=True)

    class Meta:
        model = DeliveryLog
        fields = [
            "id",
            "event_id",
            "event_type",
            "destination_id",
            "account",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "received_timestamp",
            "processed_timestamp",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeliveryLogDetailSerializer(DeliveryLogSerializer):
    """A delivery log with its payload and every attempt."""

    payload = serializers.SerializerMethodField(
        help_text="The event's JSON body (numbers that a double cannot hold exactly are shown as "
        "their text; the delivered body is byte for byte what was ingested)."
    )
    delivery_attempts = DeliveryAttemptSerializer(source="attempt_set", many=True, read_only=True)

    class Meta(DeliveryLogSerializer.Meta):
        fields = [*DeliveryLogSerializer.Meta.fields, "payload", "delivery_attempts"]
        read_only_fields = fields

    def get_payload(self, log) -> dict:
        body = log.event.body
        payload = payload_for_api(body)
        if isinstance(payload, dict) and is_strict_json_object(body):
            # Rendered as received (RawJSONRenderer): `19.90` stays `19.90`.
            return RawJSON(body, payload)
        return payload


class RotateSecretInputSerializer(StrictSerializer):
    grace_seconds = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_GRACE_SECONDS,
        default=DEFAULT_GRACE_SECONDS,
        help_text="Seconds the old secret keeps signing too (both v1 signatures); 0: none.",
    )


class ReplayInputSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=[DeliveryLog.Status.FAILED, DeliveryLog.Status.HELD])
    received_timestamp__gte = serializers.DateTimeField(required=False)
    received_timestamp__lte = serializers.DateTimeField(required=False)
    destination_id = serializers.IntegerField(required=False, min_value=1)


class ReplayOutputSerializer(serializers.Serializer):
    requeued = serializers.IntegerField()


class IngestResponseSerializer(serializers.Serializer):
    message = serializers.CharField()
    event_id = serializers.CharField()
    duplicate = serializers.BooleanField(required=False)


# --- Operators (SPEC section 13) ---------------------------------------------------------------


class StatsQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=["1h", "24h", "7d"], default="24h", required=False)


class _StatsDeliveriesSerializer(serializers.Serializer):
    success = serializers.IntegerField()
    failed = serializers.IntegerField()
    retrying = serializers.IntegerField(help_text="Unfinished logs that already had an attempt.")
    pending = serializers.IntegerField(help_text="Logs not attempted yet (or their first one).")
    held = serializers.IntegerField()


class _StatsAttemptsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    success = serializers.IntegerField()
    failure = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True, help_text="0.0-1.0; null: none.")


class _StatsLatencySerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)


class _StatsLastSuccessSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)


class _StatsLastFailureSerializer(_StatsLastSuccessSerializer):
    error = serializers.CharField(allow_blank=True)


class _StatsBreakerSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["closed", "open", "half_open"])
    open_until = serializers.DateTimeField(allow_null=True)
    trips = serializers.IntegerField()


class _StatsBacklogSerializer(serializers.Serializer):
    due = serializers.IntegerField(help_text="Pending logs whose next attempt is due.")
    oldest_due_at = serializers.DateTimeField(allow_null=True)


class _StatsBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    success = serializers.IntegerField()
    failure = serializers.IntegerField()
    p95_ms = serializers.FloatField(allow_null=True)


class DestinationStatsSerializer(serializers.Serializer):
    """The stats body (documentation only: the selector builds it)."""

    window = serializers.ChoiceField(choices=["1h", "24h", "7d"])
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    deliveries = _StatsDeliveriesSerializer(help_text="Logs of events received in the window.")
    attempts = _StatsAttemptsSerializer(help_text="Attempts made in the window.")
    latency_ms = _StatsLatencySerializer(help_text="Of the window's attempts with an answer.")
    last_success = _StatsLastSuccessSerializer(allow_null=True)
    last_failure = _StatsLastFailureSerializer(allow_null=True)
    breaker = _StatsBreakerSerializer()
    backlog = _StatsBacklogSerializer()
    series = _StatsBucketSerializer(many=True, help_text="One bucket per hour (per day for 7d).")


class TestPingOutputSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    log_id = serializers.IntegerField()
