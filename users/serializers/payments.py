"""Stripe Checkout session input and answer, and the webhook result."""

from rest_framework import serializers

from backend.common.serializers import StrictSerializer


class CheckoutSessionRequestSerializer(StrictSerializer):
    """A credit `pack` (see STRIPE_CREDIT_PACKS) or a configured Stripe `price_id`."""

    pack = serializers.CharField(max_length=100, required=False)
    price_id = serializers.CharField(max_length=255, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=100, default=1)
    success_url = serializers.URLField(max_length=2000)
    cancel_url = serializers.URLField(max_length=2000)

    def validate(self, attrs):
        if ("pack" in attrs) == ("price_id" in attrs):
            raise serializers.ValidationError({"pack": ["Send either pack or price_id."]})
        return attrs


class CheckoutSessionSerializer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.URLField()


class StripeWebhookResultSerializer(serializers.Serializer):
    """`processed`, `ignored` (type not handled) or `duplicate` (this event id was handled)."""

    status = serializers.CharField()
