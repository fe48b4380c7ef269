"""Reads about accounts and memberships."""

from accounts.models import Membership


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
