"""Input and output serializers of the identity app (canonical and seed-compatible shapes)."""

from datetime import date

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from PIL import Image
from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from users.models import CreditTransaction, Device, default_notification_preferences

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
    """The caller's profile (`avatar` is the image's URL, absolute when a request is known)."""

    avatar = serializers.SerializerMethodField()

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
            "avatar",
            "notification_preferences",
            "email_confirmed",
            "credits",
            "subscription_status",
            "subscription_plan",
            "date_joined",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_avatar(self, user) -> str | None:
        if not user.avatar:
            return None
        url = user.avatar.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


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


AVATAR_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}
AVATAR_MAX_SIDE = 4096


def validate_avatar(upload):
    """An image Pillow can open (PNG, JPEG, GIF, WebP), within AVATAR_MAX_BYTES and 4096 px.

    The declared content type and file name are not trusted: the bytes are opened and checked,
    and the stored name gets the extension of the detected format.
    """
    if upload is None:
        return None
    limit = settings.AVATAR_MAX_BYTES
    if upload.size > limit:
        raise serializers.ValidationError(f"The image is too large: at most {limit} bytes.")
    invalid = "Upload a valid image (PNG, JPEG, GIF or WebP)."
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except Exception as exc:  # Pillow raises many types for broken or hostile files
        raise serializers.ValidationError(invalid) from exc
    finally:
        upload.seek(0)
    if image_format not in AVATAR_FORMATS:
        raise serializers.ValidationError(invalid)
    if max(width, height) > AVATAR_MAX_SIDE:
        raise serializers.ValidationError(
            f"The image is too large: at most {AVATAR_MAX_SIDE} pixels on each side."
        )
    upload.name = f"avatar{AVATAR_FORMATS[image_format]}"
    return upload


class ProfileUpdateSerializer(ProfileFieldsMixin, StrictSerializer):
    """PATCH of the caller's profile (JSON, or multipart with an `avatar` file); read-only fields
    are refused, not silently ignored. `avatar: null` removes the picture."""

    READ_ONLY = (
        "id",
        "email",
        "email_confirmed",
        "credits",
        "date_joined",
        "subscription_status",
        "subscription_plan",
    )

    username = serializers.CharField(max_length=150, required=False)
    notification_preferences = serializers.JSONField(required=False)
    avatar = serializers.FileField(required=False, allow_null=True, allow_empty_file=False)

    def validate_avatar(self, value):
        return validate_avatar(value)

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


# --- Account lifecycle ----------------------------------------------------------------------------

TOKEN_MAX_LENGTH = 128


def one_time_token_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=TOKEN_MAX_LENGTH, trim_whitespace=True, **kwargs)


def check_confirm(attrs: dict, *, password: str, confirm: str) -> dict:
    value = attrs.pop(confirm, None)
    if value is not None and value != attrs.get(password):
        raise serializers.ValidationError({confirm: ["Passwords do not match."]})
    return attrs


class EmailTokenSerializer(StrictSerializer):
    """The token from a confirmation email."""

    token = one_time_token_field()


class EmailConfirmedSerializer(serializers.Serializer):
    message = serializers.CharField()
    email_confirmed = serializers.BooleanField()


class PasswordResetRequestSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(StrictSerializer):
    """The token from a reset email and the new password (`new_password_confirm` optional)."""

    token = one_time_token_field()
    new_password = password_field()
    new_password_confirm = password_field(required=False)

    def validate(self, attrs):
        return check_confirm(attrs, password="new_password", confirm="new_password_confirm")


class PasswordChangeSerializer(StrictSerializer):
    old_password = password_field()
    new_password = password_field()
    new_password_confirm = password_field(required=False)

    def validate(self, attrs):
        return check_confirm(attrs, password="new_password", confirm="new_password_confirm")


class PasswordChangedSerializer(serializers.Serializer):
    """The new pair of the session that changed the password (every other one is logged out)."""

    message = serializers.CharField()
    access = serializers.CharField()
    refresh = serializers.CharField()


class ResetPasswordControlSerializer(StrictSerializer):
    """Seed 002's one password route: `{"email"}` asks for a link; `{"token", "new_password"}`
    (and optionally `new_password_confirm`) sets the new password."""

    email = serializers.EmailField(max_length=254, required=False)
    token = one_time_token_field(required=False)
    new_password = password_field(required=False)
    new_password_confirm = password_field(required=False)

    def validate(self, attrs):
        if "token" in attrs or "new_password" in attrs:
            if "email" in attrs:
                raise serializers.ValidationError(
                    {"email": ["Send either an email (request) or a token (confirm), not both."]}
                )
            missing = [name for name in ("token", "new_password") if name not in attrs]
            if missing:
                raise serializers.ValidationError(
                    {name: ["This field is required."] for name in missing}
                )
            return check_confirm(attrs, password="new_password", confirm="new_password_confirm")
        if "email" not in attrs:
            raise serializers.ValidationError(
                {"email": ["Send an email to get a reset link, or a token and new_password."]}
            )
        return attrs


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


class DeviceSerializer(serializers.ModelSerializer):
    """A device the user logged in from; `current` marks the one making this request."""

    current = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = [
            "id",
            "browser",
            "os",
            "device",
            "device_type",
            "ip",
            "user_agent",
            "first_seen",
            "last_seen",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, device) -> bool:
        return str(device.pk) == self.context.get("current_device_id")


class PreRegisterSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)


class PreRegisteredSerializer(serializers.Serializer):
    message = serializers.CharField()
    email = serializers.EmailField()


class CreditTransactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditTransaction
        fields = ["id", "amount", "balance_after", "reason", "reference", "created_at"]
        read_only_fields = fields


class CreditHistorySerializer(serializers.Serializer):
    """The balance and one page of the credit history."""

    balance = serializers.IntegerField()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CreditTransactionSerializer(many=True)


class CreditSpendSerializer(StrictSerializer):
    """Spend credits on a feature; a `reference` makes a retried call spend once."""

    amount = serializers.IntegerField(min_value=1, max_value=1_000_000_000)
    reason = serializers.CharField(max_length=255)
    reference = serializers.CharField(max_length=255, required=False, allow_blank=True)


class CreditSpentSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    transaction = CreditTransactionSerializer()


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
