"""Admin pages of destinations, events, delivery logs (attempts inline) and attempts.

Events, logs and attempts are the delivery audit trail: the admin shows them read-only (no add,
change or delete); a failed or held log is retried through the same service as the API.
"""

from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from destinations.admin_stats import stats_panel_context
from destinations.models import DeliveryAttempt, DeliveryLog, Destination, Event
from destinations.services import delivery_logs_requeue


class AuditTrailAdmin(admin.ModelAdmin):
    """Read-only: staff with view permission see every field, nobody writes through the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "http_method", "url", "is_active", "disabled_at", "created_at")
    list_filter = ("is_active", "http_method", "created_at")
    search_fields = ("url", "account__name", "disabled_reason")
    list_select_related = ("account",)
    raw_id_fields = ("account", "created_by", "updated_by")
    # A URL typed without a scheme means https (Django 6's default, chosen now: no warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Secrets are shown, never edited by hand (rotate through the API); the breaker, the rate
    # window and the failure counters are the delivery engine's bookkeeping, not settings.
    readonly_fields = (
        "signing_secret",
        "previous_signing_secret",
        "previous_secret_expires_at",
        "consecutive_failures",
        "failing_since",
        "breaker_failures",
        "breaker_trips",
        "breaker_open_until",
        "rate_window_start",
        "rate_window_count",
        "disabled_at",
        "created_at",
        "updated_at",
    )
    # Operators: the stats panel and chart on the change page (destinations/admin_stats.py).
    change_form_template = "admin/destinations/destination/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        destination = self.get_object(request, object_id)
        if destination is not None:
            window = request.GET.get("stats_window")
            extra_context = {**(extra_context or {}), **stats_panel_context(destination, window)}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Event)
class EventAdmin(AuditTrailAdmin):
    list_display = ("id", "event_id", "account", "received_at")
    list_filter = ("received_at",)
    search_fields = ("event_id", "account__name")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    readonly_fields = ("account", "event_id", "payload_as_received", "received_at")

    @admin.display(description="payload (as received)")
    def payload_as_received(self, event: Event) -> str:
        return format_html("<pre>{}</pre>", event.body)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = (
        "attempt_number",
        "started_at",
        "duration_ms",
        "status_code",
        "outcome",
        "error",
        "response_body",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeliveryLog)
class DeliveryLogAdmin(AuditTrailAdmin):
    list_display = (
        "id",
        "account",
        "destination",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "received_timestamp",
        "processed_timestamp",
    )
    list_filter = ("status", "received_timestamp")
    search_fields = ("event__event_id", "destination__url", "account__name", "last_error")
    list_select_related = ("account", "destination", "event")
    raw_id_fields = ("event", "destination", "account")
    readonly_fields = (
        "payload_as_received",
        "received_timestamp",
        "processed_timestamp",
        "created_at",
        "updated_at",
    )
    inlines = [DeliveryAttemptInline]

    @admin.display(description="payload (as received)")
    def payload_as_received(self, log: DeliveryLog) -> str:
        return format_html("<pre>{}</pre>", log.event.body)

    actions = ["retry_logs"]

    def has_retry_permission(self, request) -> bool:
        # Retrying writes through the service, so it takes the (otherwise unused) change right.
        return request.user.has_perm("destinations.change_deliverylog")

    @admin.action(description="Retry the selected failed or held logs", permissions=["retry"])
    def retry_logs(self, request, queryset):
        count = delivery_logs_requeue(logs=queryset)
        self.message_user(request, f"{count} log(s) re-queued for delivery.", messages.SUCCESS)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(AuditTrailAdmin):
    list_display = ("id", "log", "attempt_number", "status_code", "outcome", "started_at")
    list_filter = ("outcome", "started_at")
    search_fields = ("error", "log__event__event_id")
    raw_id_fields = ("log",)
