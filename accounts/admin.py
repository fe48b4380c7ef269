"""Admin pages for accounts and memberships."""

from django.contrib import admin
from django.db.models import Count

from accounts.models import Account, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    # raw_id rather than autocomplete: the User admin belongs to the users app.
    raw_id_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "created_by", "member_count", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "created_by__email", "memberships__user__email"]
    # The token is rotated through the API (which tells other apps); never typed in by hand.
    readonly_fields = ["app_secret_token", "created_at", "updated_at"]
    raw_id_fields = ["created_by"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("created_by")
            .annotate(member_total=Count("memberships"))
        )

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, obj):
        return obj.member_total

    def get_search_results(self, request, queryset, search_term):
        queryset, _may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Searching through memberships joins many rows per account: de-duplicate.
        return queryset.distinct(), False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "user", "role", "created_at"]
    list_filter = ["role", "created_at"]
    search_fields = ["account__name", "user__email", "user__username"]
    list_select_related = ["account", "user"]
    autocomplete_fields = ["account"]
    raw_id_fields = ["user"]
