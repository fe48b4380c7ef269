"""Reads about accounts and memberships, always scoped to what the asking user may see."""

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, QuerySet, Subquery

from accounts.models import Account, Membership
from backend.common.filters import is_database_id


def memberships_of(*, user) -> QuerySet[Membership]:
    """The memberships a request may act through.

    A credential bound to one account (an account API key sets `user.credential_account_id`)
    acts for that account only, even when its owner is a member of others.
    """
    memberships = Membership.objects.filter(user=user)
    bound_account_id = getattr(user, "credential_account_id", None)
    if bound_account_id is not None:
        memberships = memberships.filter(account_id=bound_account_id)
    return memberships


def membership_get(*, user, account_id) -> Membership | None:
    """The user's membership of the account, or None (callers answer 404 for None)."""
    if not user or not user.is_authenticated:
        return None
    if not is_database_id(account_id):  # past bigint SQLite cannot even bind it (a 500)
        return None
    return memberships_of(user=user).select_related("account").filter(account_id=account_id).first()


def account_ids_for_user(*, user) -> list[int]:
    return list(memberships_of(user=user).values_list("account_id", flat=True))


def account_list_for_user(*, user) -> QuerySet[Account]:
    """Accounts the user is a member of, each annotated with `my_role` (the user's role)."""
    my_role = memberships_of(user=user).filter(account=OuterRef("pk")).values("role")[:1]
    return (
        Account.objects.annotate(my_role=Subquery(my_role))
        .filter(my_role__isnull=False)
        .order_by("id")
    )


def membership_list(*, account_id: int) -> QuerySet[Membership]:
    return Membership.objects.filter(account_id=account_id).select_related("user").order_by("id")


def admin_account_ids_subquery(*, user) -> QuerySet:
    """Ids of the accounts where the user is an Admin (a subquery, not a list)."""
    return memberships_of(user=user).filter(role=Membership.Role.ADMIN).values("account_id")


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
