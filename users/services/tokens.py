"""JWT revocation and rotation: one token, a login family, every token of a user, logout, and
refresh with reuse detection. Revocations go to PostgreSQL and to the cache denylist
(users.denylist).
"""

import logging
import uuid
from datetime import datetime
from typing import Any, NoReturn

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken

from users import denylist, tokens
from users.exceptions import RevocationUnavailable
from users.models import RevokedToken, User
from users.signals import tokens_refreshed

logger = logging.getLogger(__name__)

# A user id as found in a token (str) or on a model (UUID).
UserId = str | uuid.UUID

TOKEN_INVALID = "Token is invalid or expired."


def _revoke_rows(rows: list[RevokedToken]) -> None:
    """Inserts revocations (already-revoked ones are kept as they are) and caches them."""
    RevokedToken.objects.bulk_create(rows, ignore_conflicts=True)
    try:
        for row in rows:
            denylist.remember(row)
    except denylist.DenylistUnavailable as exc:
        raise RevocationUnavailable() from exc


def _row(
    *,
    kind: str,
    identifier: str,
    payload: dict[str, Any] | None = None,
    user_id: UserId | None = None,
    reason: str,
    expires_at: datetime | None = None,
) -> RevokedToken:
    return RevokedToken(
        kind=kind,
        identifier=identifier,
        user_id=user_id if user_id is not None else tokens.user_id_of(payload or {}),
        reason=reason,
        expires_at=expires_at or tokens.expires_at(payload or {}),
    )


def _family_row(*, family: str, user_id: UserId | None, reason: str) -> RevokedToken:
    # No token of a login outlives the newest refresh token, issued at the latest now.
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    return _row(
        kind=RevokedToken.Kind.FAMILY,
        identifier=family,
        user_id=user_id,
        reason=reason,
        expires_at=timezone.now() + lifetime,
    )


def _token_rows(payload: dict[str, Any], *, reason: str, with_family: bool) -> list[RevokedToken]:
    kind = (
        RevokedToken.Kind.REFRESH
        if tokens.token_type(payload) == RefreshToken.token_type
        else RevokedToken.Kind.ACCESS
    )
    rows = [_row(kind=kind, identifier=tokens.jti_of(payload), payload=payload, reason=reason)]
    family = tokens.family_of(payload)
    if with_family and family:
        rows.append(_family_row(family=family, user_id=tokens.user_id_of(payload), reason=reason))
    return rows


@transaction.atomic
def token_family_revoke(
    *, family: str, user: User | None = None, reason: str = RevokedToken.Reason.ADMIN
) -> None:
    """Revokes every token of one login (its `fam` claim): access and refresh alike."""
    _revoke_rows([_family_row(family=family, user_id=getattr(user, "pk", None), reason=reason)])


def token_families_revoke(*, families: list[str], user_id: UserId, reason: str) -> None:
    """Revokes every token of these logins (a revoked device's); nothing to do for none."""
    rows = [_family_row(family=family, user_id=user_id, reason=reason) for family in families]
    if rows:
        _revoke_rows(rows)


@transaction.atomic
def token_revoke(*, token: str, reason: str) -> None:
    """Revokes one access or refresh token (400 naming `token` if it is invalid or expired)."""
    try:
        payload = UntypedToken(token).payload  # type: ignore[arg-type]  # simplejwt hints Token, takes the encoded str
    except TokenError as exc:
        raise exceptions.ValidationError({"token": [TOKEN_INVALID]}) from exc
    if tokens.token_type(payload) not in (AccessToken.token_type, RefreshToken.token_type):
        raise exceptions.ValidationError({"token": [TOKEN_INVALID]})
    _revoke_rows(_token_rows(payload, reason=reason, with_family=False))


@transaction.atomic
def user_logout(*, access: str | None, refresh: str | None) -> None:
    """Ends a login: revokes the access token, the refresh token and their token family.

    Tokens are validated first (400 naming `access` / `refresh`), so nothing changes on bad input.
    """
    payloads = []
    for field, value, token_class in (
        ("access", access, AccessToken),
        ("refresh", refresh, RefreshToken),
    ):
        if not value:
            continue
        try:
            payloads.append(token_class(value).payload)  # type: ignore[arg-type]  # simplejwt hints Token, takes the encoded str
        except TokenError as exc:
            raise exceptions.ValidationError({field: [TOKEN_INVALID]}) from exc
    if not payloads:
        raise exceptions.ValidationError({"refresh": ["An access or refresh token is required."]})
    if len({tokens.user_id_of(p) for p in payloads}) > 1:
        raise exceptions.ValidationError(
            {"refresh": ["This refresh token belongs to another user."]}
        )
    rows: dict[tuple[str, str], RevokedToken] = {}
    for payload in payloads:
        for row in _token_rows(payload, reason=RevokedToken.Reason.LOGOUT, with_family=True):
            rows[(row.kind, row.identifier)] = row
    _revoke_rows(list(rows.values()))


@transaction.atomic
def user_tokens_revoke_all(*, user: User, reason: str = RevokedToken.Reason.REVOKE_ALL) -> None:
    """Revokes every token of the user issued until now (password reset, "log out everywhere")."""
    now = timezone.now()
    longest = max(
        settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"], settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    )
    row, _ = RevokedToken.objects.update_or_create(
        kind=RevokedToken.Kind.USER,
        identifier=str(user.pk),
        defaults={"user": user, "reason": reason, "created_at": now, "expires_at": now + longest},
    )
    try:
        denylist.remember(row)
    except denylist.DenylistUnavailable as exc:
        raise RevocationUnavailable() from exc


# --- Refresh ---------------------------------------------------------------------------------------


def _refresh_token_reused(*, family: str, user: User) -> NoReturn:
    """Revokes the whole login of a reused refresh token and refuses the call (401)."""
    token_family_revoke(family=family, user=user, reason=RevokedToken.Reason.REUSE_DETECTED)
    logger.warning("Refresh token reuse detected for user %s: token family revoked.", user.pk)
    raise exceptions.AuthenticationFailed(
        "Refresh token was already used: every token of this login has been revoked.",
        code="token_reused",
    )


def token_refresh(*, refresh: str) -> dict[str, Any]:
    """Rotates a refresh token: {"access", "refresh"} of the same family, the old one revoked.

    Presenting a refresh token that was already used revokes its whole family (401). Not one
    transaction on purpose: the family revocation must commit even though the request fails.
    """
    try:
        payload = RefreshToken(refresh).payload  # type: ignore[arg-type]  # simplejwt hints Token, takes the encoded str
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
    user_id = tokens.user_id_of(payload)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid")
    jti = tokens.jti_of(payload)
    # A refresh token minted without a `fam` claim is its own family (tokens.family_of).
    family = tokens.family_of(payload) or jti
    if denylist.is_revoked(payload):
        # Answering from the database (after a cache loss), the denylist also reports a refresh
        # token spent by rotation as revoked: that is reuse too, whichever check saw it first.
        if RevokedToken.objects.filter(
            kind=RevokedToken.Kind.REFRESH, identifier=jti, reason=RevokedToken.Reason.ROTATED
        ).exists():
            _refresh_token_reused(family=family, user=user)
        raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")
    try:
        with transaction.atomic():
            # The unique (kind, identifier) row is the atomic "this refresh token is spent" claim.
            RevokedToken.objects.create(
                kind=RevokedToken.Kind.REFRESH,
                identifier=jti,
                user=user,
                reason=RevokedToken.Reason.ROTATED,
                expires_at=tokens.expires_at(payload),
            )
    except IntegrityError:
        _refresh_token_reused(family=family, user=user)
    new_refresh, access = tokens.mint_pair(user_id=user.pk, family=family)
    tokens_refreshed.send(sender=User, user=user, family=family)
    return {"access": str(access), "refresh": str(new_refresh)}
