"""Admin for users (email login) and token revocations."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from users import services
from users.models import RevokedToken, User


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
        (_("Billing"), {"fields": ("credits", "stripe_customer_id")}),
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
