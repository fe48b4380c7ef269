"""Login input and the token pair it answers (canonical and seed 004 shapes)."""

from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from users.serializers.common import password_field
from users.serializers.profile import UserBriefSerializer


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LegacyLoginResponseSerializer(serializers.Serializer):
    """Seed 004's login response."""

    message = serializers.CharField()
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    user = UserBriefSerializer()


class LoginSerializer(StrictSerializer):
    """`username` or `email` (either may hold the email or the username) and `password`."""

    username = serializers.CharField(max_length=254, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    password = password_field()

    def validate(self, attrs):
        identifier = (attrs.get("email") or attrs.get("username") or "").strip()
        if not identifier:
            raise serializers.ValidationError(
                {"username": ["Provide a username or an email address."]}
            )
        attrs["identifier"] = identifier
        return attrs
