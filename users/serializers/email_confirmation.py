"""Email confirmation: the token input, the confirmed answer, seed 002's control endpoint."""

from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from users.serializers.common import one_time_token_field


class EmailTokenSerializer(StrictSerializer):
    """The token from a confirmation email."""

    token = one_time_token_field()


class EmailConfirmedSerializer(serializers.Serializer):
    message = serializers.CharField()
    email_confirmed = serializers.BooleanField()


class EmailConfirmationControlSerializer(StrictSerializer):
    """Seed 002's one email route: `{"token"}` confirms; `{"action": "resend"}` (authenticated)
    mails a new link."""

    token = one_time_token_field(required=False)
    action = serializers.ChoiceField(choices=["resend"], required=False)

    def validate(self, attrs):
        if ("token" in attrs) == ("action" in attrs):
            raise serializers.ValidationError(
                {"token": ['Send a token to confirm, or action "resend" for a new link.']}
            )
        return attrs
