"""Input and output serializers of the destinations API."""

from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from destinations.models import DeliveryAttempt, DeliveryLog, Destination


class DestinationInputSerializer(StrictSerializer):
    """Create/update body. URL safety (SSRF) and header rules are checked by the model."""

    url = serializers.CharField(max_length=2048)
    http_method = serializers.ChoiceField(choices=Destination.HttpMethod.choices, required=False)
    headers = serializers.JSONField(required=False)
    is_active = serializers.BooleanField(required=False)

    def validate_http_method(self, value: str) -> str:
        return value.upper()

    def to_internal_value(self, data):
        # Accept "post" as well as "POST".
        if isinstance(data, dict) and isinstance(data.get("http_method"), str):
            data = {**data, "http_method": data["http_method"].upper()}
        return super().to_internal_value(data)

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
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "signing_secret",
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
    destination_id = serializers.IntegerField(read_only=True)
    account = serializers.IntegerField(source="account_id", read_only=True)

    class Meta:
        model = DeliveryLog
        fields = [
            "id",
            "event_id",
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

    payload = serializers.JSONField(source="event.payload", read_only=True)
    delivery_attempts = DeliveryAttemptSerializer(source="attempt_set", many=True, read_only=True)

    class Meta(DeliveryLogSerializer.Meta):
        fields = [*DeliveryLogSerializer.Meta.fields, "payload", "delivery_attempts"]
        read_only_fields = fields


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
