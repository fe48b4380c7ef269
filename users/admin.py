"""Admin for users (email login), token revocations and the account lifecycle models."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from users import services
from users.models import (
    CreditTransaction,
    Device,
    DeviceLogin,
    EmailConfirmationToken,
    PasswordResetToken,
    PreRegistration,
    RevokedToken,
    StripeEvent,
    User,
)


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "username")

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data.get("email"))
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email


class UserChangeAdminForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = (
        "email",
        "username",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "email_confirmed",
        "credits",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "email_confirmed", "date_joined")
    search_fields = ("email", "username", "first_name", "last_name", "phone_number", "=id")
    ordering = ("-date_joined",)
    readonly_fields = ("id", "date_joined", "last_login", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "email", "username", "password")}),
        (
            _("Profile"),
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "phone_number",
                    "birth_date",
                    "avatar",
                    "notification_preferences",
                )
            },
        ),
        (
            _("Billing"),
            {
                "fields": (
                    "credits",
                    "stripe_customer_id",
                    "subscription_id",
                    "subscription_status",
                    "subscription_plan",
                    "subscription_current_period_end",
                )
            },
        ),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "email_confirmed",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Dates"), {"fields": ("date_joined", "last_login", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "username", "usable_password", "password1", "password2"),
            },
        ),
    )
    actions = ["revoke_all_tokens"]

    @admin.action(description="Log out everywhere (revoke every token of the selected users)")
    def revoke_all_tokens(self, request, queryset):
        for user in queryset:
            services.user_tokens_revoke_all(user=user, reason=RevokedToken.Reason.ADMIN)
        self.message_user(
            request, f"Revoked the tokens of {queryset.count()} user(s).", messages.SUCCESS
        )


@admin.register(RevokedToken)
class RevokedTokenAdmin(admin.ModelAdmin):
    """Read-only: revocations are written by the services, which also update the cache."""

    list_display = ("kind", "identifier", "user", "reason", "created_at", "expires_at")
    list_filter = ("kind", "reason", "created_at", "expires_at")
    search_fields = ("identifier", "user__email", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = ("kind", "identifier", "user", "reason", "created_at", "expires_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services (which keep their invariants); staff look and may delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmailConfirmationToken)
class EmailConfirmationTokenAdmin(ReadOnlyAdmin):
    """Only hashes are stored: the admin can see when a link was sent and used, never the link."""

    list_display = ("user", "email", "created_at", "expires_at", "used_at")
    list_filter = (("used_at", admin.EmptyFieldListFilter), "created_at", "expires_at")
    search_fields = ("user__email", "user__username", "email")
    list_select_related = ("user",)
    exclude = ("token_hash",)


@admin.register(PasswordResetToken)
class PasswordResetTokenAdmin(ReadOnlyAdmin):
    list_display = ("user", "requested_ip", "created_at", "expires_at", "used_at")
    list_filter = (("used_at", admin.EmptyFieldListFilter), "created_at", "expires_at")
    search_fields = ("user__email", "user__username", "requested_ip")
    list_select_related = ("user",)
    exclude = ("token_hash",)


class DeviceLoginInline(admin.TabularInline):
    model = DeviceLogin
    extra = 0
    can_delete = False
    readonly_fields = ("family", "created_at", "expires_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "browser", "os", "device_type", "ip", "last_seen", "revoked_at")
    list_filter = ("device_type", ("revoked_at", admin.EmptyFieldListFilter), "last_seen")
    search_fields = ("user__email", "user__username", "ip", "user_agent", "browser", "os")
    list_select_related = ("user",)
    readonly_fields = [field.name for field in Device._meta.fields]
    inlines = [DeviceLoginInline]
    actions = ["revoke_devices"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected devices (their tokens stop working at once)")
    def revoke_devices(self, request, queryset):
        count = 0
        for device in queryset.filter(revoked_at__isnull=True):
            services.device_revoke(device=device)
            count += 1
        self.message_user(request, f"Revoked {count} device(s).", messages.SUCCESS)


@admin.register(DeviceLogin)
class DeviceLoginAdmin(ReadOnlyAdmin):
    list_display = ("family", "device", "created_at", "expires_at")
    list_filter = ("created_at", "expires_at")
    search_fields = ("family", "device__user__email", "device__ip")
    list_select_related = ("device", "device__user")


@admin.register(PreRegistration)
class PreRegistrationAdmin(admin.ModelAdmin):
    list_display = ("email", "created_at")
    list_filter = ("created_at",)
    search_fields = ("email",)
    date_hierarchy = "created_at"


@admin.register(CreditTransaction)
class CreditTransactionAdmin(ReadOnlyAdmin):
    """The ledger is append-only: grant or spend through the services, never edit a row."""

    list_display = ("user", "amount", "balance_after", "reason", "reference", "created_at")
    list_filter = ("created_at", "reason")
    search_fields = ("user__email", "user__username", "reason", "reference")
    list_select_related = ("user",)
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "outcome", "livemode", "detail", "received_at")
    list_filter = ("outcome", "type", "livemode", "received_at")
    search_fields = ("event_id", "type", "detail")
    date_hierarchy = "received_at"
