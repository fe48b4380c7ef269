"""Input and output serializers of the identity app (canonical and seed-compatible shapes)."""

from datetime import date

import phonenumbers
from django.contrib.auth import get_user_model
from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from users.models import default_notification_preferences

User = get_user_model()

PASSWORD_MAX_LENGTH = 128


def password_field(**kwargs) -> serializers.CharField:
    # Passwords are taken as typed: no trimming, never echoed back.
    return serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=PASSWORD_MAX_LENGTH,
        style={"input_type": "password"},
        **kwargs,
    )


def validate_phone_number(value: str) -> str:
    """An international number (`+` and country code), stored as E.164; empty clears it."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise serializers.ValidationError(
            "Enter a phone number in international format, e.g. +14155550123."
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise serializers.ValidationError("This phone number is not possible.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_birth_date(value: date | None) -> date | None:
    if value is None:
        return None
    if value > date.today():  # noqa: DTZ011 - a calendar date, not an instant
        raise serializers.ValidationError("Birth date cannot be in the future.")
    if value.year < 1900:
        raise serializers.ValidationError("Birth date must be after 1900.")
    return value


def validate_notification_preferences(value) -> dict:
    """A JSON object of known switches to booleans; partial objects are merged on update."""
    known = set(default_notification_preferences())
    if not isinstance(value, dict):
        raise serializers.ValidationError("Expected a JSON object of booleans.")
    unknown = sorted(set(value) - known)
    if unknown:
        raise serializers.ValidationError(
            f"Unknown preference(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}."
        )
    if not all(isinstance(flag, bool) for flag in value.values()):
        raise serializers.ValidationError("Every preference must be true or false.")
    return value


class ProfileFieldsMixin(serializers.Serializer):
    """Optional profile fields shared by registration and the profile update."""

    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)

    def validate_phone_number(self, value):
        return validate_phone_number(value)

    def validate_birth_date(self, value):
        return validate_birth_date(value)


# --- Output ---------------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    """The caller's profile."""

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "username",
            "first_name",
            "last_name",
            "phone_number",
            "birth_date",
            "notification_preferences",
            "email_confirmed",
            "credits",
            "date_joined",
        ]
        read_only_fields = fields


class StaffUserSerializer(UserSerializer):
    """A user as staff see it."""

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "is_active", "is_staff", "last_login"]
        read_only_fields = fields


class CreatedUserSerializer(serializers.ModelSerializer):
    """Seed 004's registration response."""

    class Meta:
        model = User
        fields = ["id", "username", "email", "date_joined"]
        read_only_fields = fields


class UserBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email"]
        read_only_fields = fields


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class LegacyLoginResponseSerializer(serializers.Serializer):
    """Seed 004's login response."""

    message = serializers.CharField()
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    user = UserBriefSerializer()


class LegacyRefreshResponseSerializer(serializers.Serializer):
    """Seed 004's refresh response."""

    message = serializers.CharField()
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class EmptySerializer(serializers.Serializer):
    """`{}`."""


class IdentityErrorSerializer(serializers.Serializer):
    """The API's one error shape."""

    error = serializers.CharField()
    details = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


# --- Input ----------------------------------------------------------------------------------------


class RegisterSerializer(ProfileFieldsMixin, StrictSerializer):
    """Registration: email and password; username, password_confirm and profile optional."""

    email = serializers.EmailField(max_length=254)
    password = password_field()
    password_confirm = password_field(required=False)
    username = serializers.CharField(max_length=150, required=False, allow_blank=True)

    def validate(self, attrs):
        confirm = attrs.pop("password_confirm", None)
        if confirm is not None and confirm != attrs["password"]:
            raise serializers.ValidationError({"password_confirm": ["Passwords do not match."]})
        if not attrs.get("username"):
            attrs.pop("username", None)
        return attrs


class RegisterWithConfirmSerializer(RegisterSerializer):
    """Seed 002's registration, where `password_confirm` is required."""

    password_confirm = password_field()


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


class ProfileUpdateSerializer(ProfileFieldsMixin, StrictSerializer):
    """PATCH of the caller's profile; read-only fields are refused, not silently ignored."""

    READ_ONLY = ("id", "email", "email_confirmed", "credits", "date_joined")

    username = serializers.CharField(max_length=150, required=False)
    notification_preferences = serializers.JSONField(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            read_only = sorted(name for name in self.READ_ONLY if name in data)
            if read_only:
                raise serializers.ValidationError(
                    {name: ["This field is read-only."] for name in read_only}
                )
        return super().to_internal_value(data)

    def validate_notification_preferences(self, value):
        return validate_notification_preferences(value)
