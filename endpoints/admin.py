"""Admin pages for API keys (never showing a hash), scheduled tasks and OAuth2 account bindings."""

from django.contrib import admin, messages

from backend.common.exceptions import Conflict
from endpoints import services
from endpoints.models import ApiKey, OAuthApplicationAccount, ScheduledTask


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "account", "is_active", "expires_at", "last_used_at"]
    list_filter = ["is_active", "created_at", "expires_at"]
    search_fields = ["name", "prefix", "user__email", "user__username", "account__name"]
    list_select_related = ["user", "account"]
    raw_id_fields = ["user", "account"]
    # The hashes are not shown at all; keys are created through the API, which shows the key once.
    fields = [
        "name",
        "prefix",
        "user",
        "account",
        "scopes",
        "rate_limit",
        "is_active",
        "expires_at",
        "last_used_at",
        "previous_prefix",
        "previous_expires_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "prefix",
        "user",
        "last_used_at",
        "previous_prefix",
        "previous_expires_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(ScheduledTask)
class ScheduledTaskAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "task_type",
        "status",
        "owner",
        "scheduled_at",
        "started_at",
        "completed_at",
        "attempts",
    ]
    list_filter = ["status", "task_type", "scheduled_at"]
    search_fields = ["id", "name", "owner__email", "celery_task_id", "error_message"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = [
        "status",
        "dispatched_at",
        "started_at",
        "completed_at",
        "result",
        "error_message",
        "celery_task_id",
        "attempts",
        "created_at",
        "updated_at",
    ]
    actions = ["cancel_pending"]

    @admin.action(description="Cancel the selected pending tasks")
    def cancel_pending(self, request, queryset):
        cancelled = 0
        for task in queryset.filter(status=ScheduledTask.Status.PENDING):
            try:
                services.scheduled_task_cancel(task=task)
                cancelled += 1
            except Conflict:
                pass
        self.message_user(request, f"{cancelled} task(s) cancelled.", messages.SUCCESS)


@admin.register(OAuthApplicationAccount)
class OAuthApplicationAccountAdmin(admin.ModelAdmin):
    """Which account an OAuth2 application sends ingest data for (applications: DOT's admin)."""

    list_display = ["application", "account", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["application__name", "application__client_id", "account__name"]
    list_select_related = ["application", "account"]
    raw_id_fields = ["application", "account"]
