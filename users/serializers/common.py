"""Serializer parts shared by the identity app's concerns: password and one-time-token fields,
profile-field validators, and the message / empty / error shapes.
"""

from datetime import date

import phonenumbers
from rest_framework import serializers

from users.models import default_notification_preferences

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


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class EmptySerializer(serializers.Serializer):
    """`{}`."""


class IdentityErrorSerializer(serializers.Serializer):
    """The API's one error shape."""

    error = serializers.CharField()
    details = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


TOKEN_MAX_LENGTH = 128


def one_time_token_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=TOKEN_MAX_LENGTH, trim_whitespace=True, **kwargs)


def check_confirm(attrs: dict, *, password: str, confirm: str) -> dict:
    value = attrs.pop(confirm, None)
    if value is not None and value != attrs.get(password):
        raise serializers.ValidationError({confirm: ["Passwords do not match."]})
    return attrs
