"""Input serializers (strict: unknown fields → 400) and output serializers of the accounts API."""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account, Membership
from backend.common.serializers import StrictSerializer

User = get_user_model()


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "enum": [1, 2]},
            {"type": "string", "enum": ["Admin", "Normal user"]},
        ],
        "description": '1 or "Admin"; 2 or "Normal user" (names are case-insensitive).',
    }
)
class RoleField(serializers.Field):
    """A role given by number (1, 2) or name ("Admin", "Normal user"), rendered as its number."""

    default_error_messages = {
        "invalid": 'Unknown role {value!r}: use 1 or "Admin", 2 or "Normal user".',
    }

    def to_internal_value(self, data):
        try:
            return Membership.Role.parse(data)
        except ValueError:
            self.fail("invalid", value=data)

    def to_representation(self, value):
        return int(value)


# --- accounts ---------------------------------------------------------------------------------------


class AccountInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=255)


class AccountOutputSerializer(serializers.ModelSerializer):
    """An account as its members see it; `app_secret_token` only for the account's Admins."""

    role = serializers.SerializerMethodField(help_text="The caller's role in this account.")
    role_name = serializers.SerializerMethodField()
    app_secret_token = serializers.UUIDField(
        read_only=True,
        required=False,
        help_text="Sent as CL-X-TOKEN by external services. Present only for the account's Admins.",
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "role",
            "role_name",
            "app_secret_token",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_role(self, obj):
        return getattr(obj, "my_role", None)

    @extend_schema_field(OpenApiTypes.STR)
    def get_role_name(self, obj):
        role = getattr(obj, "my_role", None)
        return Membership.Role(role).label if role else None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(instance, "my_role", None) != Membership.Role.ADMIN:
            data.pop("app_secret_token", None)
        return data


class AccountSecretOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    app_secret_token = serializers.UUIDField()


# --- memberships ------------------------------------------------------------------------------------


class MembershipCreateInputSerializer(StrictSerializer):
    user = serializers.UUIDField(required=False, help_text="The user's id.")
    email = serializers.EmailField(required=False, help_text="Or the user's email address.")
    role = RoleField(required=False, default=Membership.Role.NORMAL_USER)

    def validate(self, attrs):
        if ("user" in attrs) == ("email" in attrs):
            raise serializers.ValidationError(
                {"user": ['Give exactly one of "user" (id) or "email".']}
            )
        return attrs


class MembershipUpdateInputSerializer(StrictSerializer):
    role = RoleField()


class MembershipOutputSerializer(serializers.ModelSerializer):
    user = serializers.UUIDField(source="user_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)
    role = RoleField(read_only=True)
    role_name = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "account",
            "user",
            "email",
            "username",
            "is_active",
            "role",
            "role_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- invitations ------------------------------------------------------------------------------------


class InviteInputSerializer(StrictSerializer):
    email = serializers.EmailField()
    account_id = serializers.IntegerField(min_value=1)
    role = RoleField(required=False, default=Membership.Role.NORMAL_USER)


class InviteOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    user_created = serializers.BooleanField(help_text="A new (inactive) user was created.")
    invitation_pending = serializers.BooleanField(
        help_text="The user still has to set a password through the emailed link."
    )
    membership = MembershipOutputSerializer()


class InvitationAcceptInputSerializer(StrictSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    password_confirm = serializers.CharField(
        max_length=128, write_only=True, required=False, trim_whitespace=False
    )

    def validate(self, attrs):
        confirm = attrs.pop("password_confirm", None)
        if confirm is not None and confirm != attrs["password"]:
            raise serializers.ValidationError({"password_confirm": ["Passwords do not match."]})
        return attrs


class InvitationCheckOutputSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    email = serializers.EmailField()
    message = serializers.CharField()


class InvitationAcceptOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    id = serializers.UUIDField()
    email = serializers.EmailField()


# --- seed 003 compatibility: login and the user directory -------------------------------------------


class SeedLoginInputSerializer(StrictSerializer):
    email = serializers.CharField(
        max_length=254, required=False, help_text="Email address (or give `username`)."
    )
    username = serializers.CharField(max_length=254, required=False)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)

    def validate(self, attrs):
        if not (attrs.get("email") or attrs.get("username")):
            raise serializers.ValidationError({"email": ["This field is required."]})
        return attrs


class SeedLoginOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Access JWT: send as `Authorization: Token <token>`.")
    refresh = serializers.CharField()
    id = serializers.UUIDField(help_text="The user's id.")
    accounts = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the user's accounts."
    )


class DirectoryUserOutputSerializer(serializers.ModelSerializer):
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
            "is_active",
            "date_joined",
        ]
        read_only_fields = fields


class DirectoryUserUpdateInputSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    notification_preferences = serializers.DictField(
        child=serializers.BooleanField(), required=False
    )
    email = serializers.EmailField(required=False)
    password = serializers.CharField(
        max_length=128, required=False, write_only=True, trim_whitespace=False
    )
    current_password = serializers.CharField(
        max_length=128,
        required=False,
        write_only=True,
        trim_whitespace=False,
        help_text="Required with `password` when changing your own password.",
    )
