"""Registration input (canonical and with password confirmation) and the created user."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from users.serializers.common import ProfileFieldsMixin, password_field

User = get_user_model()


class CreatedUserSerializer(serializers.ModelSerializer):
    """Seed 004's registration response."""

    class Meta:
        model = User
        fields = ["id", "username", "email", "date_joined"]
        read_only_fields = fields


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
