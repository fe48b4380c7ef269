"""Reads about accounts and memberships, always scoped to what the asking user may see."""

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, QuerySet, Subquery

from accounts.models import Account, Membership


def membership_get(*, user, account_id) -> Membership | None:
    """The user's membership of the account, or None (callers answer 404 for None)."""
    if not user or not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("account")
        .filter(user=user, account_id=account_id)
        .first()
    )


def account_ids_for_user(*, user) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("account_id", flat=True))


def account_list_for_user(*, user) -> QuerySet[Account]:
    """Accounts the user is a member of, each annotated with `my_role` (the user's role)."""
    my_role = Membership.objects.filter(account=OuterRef("pk"), user=user).values("role")[:1]
    return (
        Account.objects.annotate(my_role=Subquery(my_role))
        .filter(my_role__isnull=False)
        .order_by("id")
    )


def membership_list(*, account_id: int) -> QuerySet[Membership]:
    return Membership.objects.filter(account_id=account_id).select_related("user").order_by("id")


def admin_account_ids_subquery(*, user) -> QuerySet:
    """Ids of the accounts where the user is an Admin (a subquery, not a list)."""
    return Membership.objects.filter(user=user, role=Membership.Role.ADMIN).values("account_id")


def user_list_visible(*, actor, email: str | None = None) -> QuerySet:
    """Users the actor may see: oneself and the members of accounts the actor administers.

    Staff see everyone. Never every user for a plain account Admin: that would leak the
    whole user base across tenants.
    """
    users = get_user_model().objects.all()
    if not actor.is_staff:
        managed_user_ids = Membership.objects.filter(
            account_id__in=admin_account_ids_subquery(user=actor)
        ).values("user_id")
        users = users.filter(Q(pk=actor.pk) | Q(pk__in=managed_user_ids))
    if email:
        users = users.filter(email__iexact=email.strip())
    return users.order_by("date_joined", "id")


def user_find_by_email(*, email: str):
    return get_user_model().objects.filter(email__iexact=email.strip()).first()
