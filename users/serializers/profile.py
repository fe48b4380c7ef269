"""Profile: the user as shown (own, staff, brief) and the profile update with its avatar check."""

from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from PIL import Image
from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from users.serializers.common import ProfileFieldsMixin, validate_notification_preferences

User = get_user_model()


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


class UserBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email"]
        read_only_fields = fields


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
