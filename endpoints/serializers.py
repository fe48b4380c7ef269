"""Input and output serializers of this app. Inputs refuse unknown fields (except the free-form
task parameters); outputs never include a key hash, and the raw key only on create/regenerate."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from endpoints.models import ApiKey, ScheduledTask
from endpoints.services import MAX_GRACE_PERIOD_SECONDS, validate_rate_limit
from endpoints.task_types import task_type_names

# --- API keys -----------------------------------------------------------------------------------


class ApiKeyInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    account = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Bind the key to one of your accounts (it then acts for that account only).",
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKey.Scope.choices),
        allow_empty=False,
        max_length=len(ApiKey.Scope.choices),
        required=False,
        help_text='Subset of "read", "write", "ingest"; default ["read", "write"].',
    )
    rate_limit = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text='Per-key rate such as "100/minute"; empty for the default.',
    )
    is_active = serializers.BooleanField(required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_rate_limit(self, value):
        return validate_rate_limit(value or "")

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        if "account" in data:
            data["account_id"] = data.pop("account")
        return data


class ApiKeySerializer(serializers.ModelSerializer):
    previous_key_expires_at = serializers.DateTimeField(
        source="previous_expires_at",
        read_only=True,
        help_text="End of the grace period of the previous key after a regenerate, if any.",
    )

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "account",
            "scopes",
            "rate_limit",
            "is_active",
            "expires_at",
            "last_used_at",
            "previous_key_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ApiKeyWithSecretSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The full key. Shown only in this response: store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyRegenerateSerializer(StrictSerializer):
    grace_period_seconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_GRACE_PERIOD_SECONDS,
        default=0,
        help_text="How long the old key keeps working (0 = invalid at once; at most 7 days).",
    )


# --- Scheduled tasks ------------------------------------------------------------------------------


class ScheduledTaskInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=255)
    task_type = serializers.CharField(
        max_length=64,
        default=ScheduledTask.DEFAULT_TASK_TYPE,
        help_text=(
            f"One of {', '.join(task_type_names())}; default "
            f'"{ScheduledTask.DEFAULT_TASK_TYPE}" (summarises `parameters.data`).'
        ),
    )
    parameters = serializers.JSONField(
        default=dict,
        help_text='Per type: add {"x", "y"}; long_running {"duration"} (seconds, bounded); '
        'process_data {"data": any JSON}.',
    )
    scheduled_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When to run; default now."
    )


class ScheduledTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduledTask
        fields = [
            "id",
            "name",
            "task_type",
            "parameters",
            "status",
            "scheduled_at",
            "started_at",
            "completed_at",
            "result",
            "error_message",
            "celery_task_id",
            "attempts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ScheduledTaskStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduledTask
        fields = [
            "id",
            "status",
            "result",
            "error_message",
            "scheduled_at",
            "started_at",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ScheduledTaskCancelledSerializer(serializers.Serializer):
    message = serializers.CharField()
    task = ScheduledTaskSerializer()


# Seed 002 shows Celery's states; RETRY is never reported (a task is not retried behind the user).
CELERY_STATES = {
    ScheduledTask.Status.PENDING: "PENDING",
    ScheduledTask.Status.RUNNING: "STARTED",
    ScheduledTask.Status.COMPLETED: "SUCCESS",
    ScheduledTask.Status.FAILED: "FAILURE",
    ScheduledTask.Status.CANCELLED: "REVOKED",
}


class CeleryStyleTaskSerializer(serializers.Serializer):
    """Seed 002's view of a task: id, Celery-style state and the result (error text on FAILURE)."""

    task_id = serializers.UUIDField(source="id")
    status = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()

    def get_status(self, task) -> str:
        return CELERY_STATES[task.status]

    @extend_schema_field(OpenApiTypes.ANY)
    def get_result(self, task):
        if task.status == ScheduledTask.Status.FAILED:
            return task.error_message
        if task.status in (ScheduledTask.Status.RUNNING, ScheduledTask.Status.COMPLETED):
            return task.result
        return None


# --- OAuth2 applications ----------------------------------------------------------------------------

OAUTH_GRANT_CHOICES = [
    ("authorization-code", "Authorization code"),
    ("client-credentials", "Client credentials"),
]
OAUTH_CLIENT_TYPE_CHOICES = [("confidential", "Confidential"), ("public", "Public")]


class OAuthApplicationInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=255)
    client_type = serializers.ChoiceField(choices=OAUTH_CLIENT_TYPE_CHOICES)
    authorization_grant_type = serializers.ChoiceField(
        choices=OAUTH_GRANT_CHOICES,
        help_text="authorization-code (with PKCE) or client-credentials.",
    )
    redirect_uris = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="Space-separated; required for authorization-code.",
    )
    post_logout_redirect_uris = serializers.CharField(
        required=False, allow_blank=True, max_length=4000
    )
    allowed_origins = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="Space-separated origins allowed to call the token endpoint from a browser.",
    )
    skip_authorization = serializers.BooleanField(required=False)
    user = serializers.UUIDField(
        required=False,
        help_text="The owner (client-credentials tokens act as this user); default: you.",
    )
    account = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Bind to one account (the owner must be its Admin): ingest-scoped tokens "
        "then send data for it.",
    )

    def validate_user(self, value):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError("No active user has this id.")
        return user

    def validate(self, attrs):
        if (
            attrs.get("client_type") == "public"
            and attrs.get("authorization_grant_type") == "client-credentials"
        ):
            raise serializers.ValidationError(
                {"client_type": ["A client-credentials application must be confidential."]}
            )
        return attrs


class OAuthApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    client_id = serializers.CharField(read_only=True)
    client_type = serializers.CharField(read_only=True)
    authorization_grant_type = serializers.CharField(read_only=True)
    redirect_uris = serializers.CharField(read_only=True)
    post_logout_redirect_uris = serializers.CharField(read_only=True)
    allowed_origins = serializers.CharField(read_only=True)
    skip_authorization = serializers.BooleanField(read_only=True)
    user = serializers.UUIDField(source="user_id", read_only=True)
    account = serializers.SerializerMethodField()
    created = serializers.DateTimeField(read_only=True)
    updated = serializers.DateTimeField(read_only=True)

    @extend_schema_field(OpenApiTypes.INT)
    def get_account(self, application) -> int | None:
        binding = getattr(application, "account_binding", None)
        return binding.account_id if binding is not None else None


class OAuthApplicationWithSecretSerializer(OAuthApplicationSerializer):
    client_secret = serializers.CharField(
        read_only=True, help_text="Shown in this response only: it is stored hashed."
    )
