"""Password reset (request, confirm), password change, and seed 002's reset control endpoint."""

from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from users.serializers.common import check_confirm, one_time_token_field, password_field


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
