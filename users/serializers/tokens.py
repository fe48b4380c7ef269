"""Refresh, verify and logout input, and seed 004's refresh shapes."""

from rest_framework import serializers

from backend.common.serializers import StrictSerializer


class LegacyRefreshResponseSerializer(serializers.Serializer):
    """Seed 004's refresh response."""

    message = serializers.CharField()
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class RefreshSerializer(StrictSerializer):
    refresh = serializers.CharField()


class VerifySerializer(StrictSerializer):
    token = serializers.CharField()


class LogoutSerializer(StrictSerializer):
    """The refresh token to revoke with the access token (optional: the family goes anyway)."""

    refresh = serializers.CharField(required=False)


class LegacyRefreshTokenSerializer(StrictSerializer):
    """Seed 004: the refresh token in the body (or in the `X-Refresh-Token` header)."""

    refresh_token = serializers.CharField(required=False)
