"""Reads of the identity app: the per-request revocation check, token verification, user lists,
devices and credit history."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken

from users import denylist, tokens
from users.models import CreditTransaction, Device

User = get_user_model()

TOKEN_INVALID = "Token is invalid or expired."


def token_is_revoked(*, payload: dict) -> bool:
    """The hot-path check of a verified token: one cache round-trip, no database query."""
    return denylist.is_revoked(payload)


def token_verify(*, token: str) -> None:
    """Raises 401 unless the token is a valid, unexpired, unrevoked access or refresh token."""
    try:
        payload = UntypedToken(token).payload  # type: ignore[arg-type]  # simplejwt hints Token, takes the encoded str
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
    kind = tokens.token_type(payload)
    if kind not in (AccessToken.token_type, RefreshToken.token_type):
        raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid")
    # Spent refresh tokens are only in the database: they are never on the per-request path.
    revoked = (
        denylist.is_revoked_in_db(payload)
        if kind == RefreshToken.token_type
        else denylist.is_revoked(payload)
    )
    if revoked:
        raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")


def user_list(*, email: str | None = None, search: str | None = None) -> QuerySet:
    """Every user (staff views only), filtered by exact email (any case) or a search term."""
    users = User.objects.all().order_by("date_joined", "id")
    if email:
        users = users.filter(email__iexact=email.strip())
    if search:
        term = search.strip()
        users = users.filter(
            Q(email__icontains=term)
            | Q(username__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
        )
    return users


def device_list(*, user) -> QuerySet:
    """The user's devices that are not revoked, most recently seen first."""
    return Device.objects.filter(user=user, revoked_at__isnull=True).order_by("-last_seen", "id")


def credit_transaction_list(*, user) -> QuerySet:
    """The user's credit history, newest first."""
    return CreditTransaction.objects.filter(user=user).order_by("-created_at", "-id")


def credits_balance(*, user) -> int:
    """The user's current balance, read from the database (not a possibly stale instance)."""
    return User.objects.values_list("credits", flat=True).get(pk=user.pk)
