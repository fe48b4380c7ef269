"""Writes of the identity app: registration, login, JWT issue / rotation / revocation, profile.

Other apps call these (accounts' seed-003 login, password reset, device tracking); the views
stay thin. Token revocations go to PostgreSQL and to the cache denylist (users.denylist).
"""

import logging

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken

from users import denylist, lockout, tokens
from users.exceptions import LoginLockedOut, RevocationUnavailable
from users.models import RevokedToken
from users.signals import tokens_issued, tokens_refreshed, user_registered

logger = logging.getLogger(__name__)

User = get_user_model()

__all__ = [
    "LoginLockedOut",
    "token_family_revoke",
    "token_pair_for_user",
    "token_refresh",
    "token_revoke",
    "user_authenticate",
    "user_logout",
    "user_profile_update",
    "user_register",
    "user_tokens_revoke_all",
]

PROFILE_FIELDS = frozenset(
    {"first_name", "last_name", "phone_number", "birth_date", "notification_preferences"}
)
INVALID_CREDENTIALS = "Unable to log in with the provided credentials."
TOKEN_INVALID = "Token is invalid or expired."


# --- Registration and profile -------------------------------------------------------------------


def _full_clean(user) -> None:
    """Field validation as a DRF 400 (uniqueness is checked case-insensitively by the caller)."""
    try:
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(as_serializer_error(exc)) from exc


def _check_username(username: str, *, exclude_pk=None) -> None:
    # Identifiers with "@" are looked up as emails at login, so a username must not contain one.
    if "@" in username:
        raise exceptions.ValidationError({"username": ["Usernames cannot contain '@'."]})
    taken = User.objects.filter(username__iexact=username)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise exceptions.ValidationError(
            {"username": ["A user with this username already exists."]}
        )


@transaction.atomic
def user_register(
    *, email: str, password: str, username: str | None = None, request=None, **profile
):
    """Creates a user (password checked by Django's validators) and sends `user_registered`.

    Email and username are unique regardless of case (400 naming the field). Receivers of
    `user_registered` (the personal account of seed 003) run inside the same transaction.
    """
    unknown = set(profile) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"user_register() got unexpected profile fields: {sorted(unknown)}")
    email = User.objects.normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise exceptions.ValidationError({"email": ["A user with this email already exists."]})
    if username:
        username = username.strip()
        _check_username(username)
    else:
        username = User.objects._unique_username(email)

    user = User(email=email, username=username, **profile)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    _full_clean(user)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise exceptions.ValidationError(
            {"email": ["A user with this email or username already exists."]}
        ) from exc
    user_registered.send(sender=User, user=user, request=request)
    return user


@transaction.atomic
def user_profile_update(*, user, **fields):
    """Updates the caller's own profile fields (not email, password or credits)."""
    unknown = set(fields) - PROFILE_FIELDS - {"username"}
    if unknown:
        raise TypeError(f"user_profile_update() got unexpected fields: {sorted(unknown)}")
    if "username" in fields:
        fields["username"] = fields["username"].strip()
        _check_username(fields["username"], exclude_pk=user.pk)
    if "notification_preferences" in fields:
        fields["notification_preferences"] = {
            **(user.notification_preferences or {}),
            **fields["notification_preferences"],
        }
    for name, value in fields.items():
        setattr(user, name, value)
    _full_clean(user)
    try:
        with transaction.atomic():
            user.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:
        raise exceptions.ValidationError(
            {"username": ["A user with this username already exists."]}
        ) from exc
    return user


# --- Login --------------------------------------------------------------------------------------


def user_authenticate(*, identifier: str, password: str, request):
    """The user with this email or username and password, or 401; 429 while locked out.

    Unknown user and wrong password get the same 401. Failures count against the account and the
    client IP (users.lockout); a lock refuses even the right password until it expires.
    """
    identifier = (identifier or "").strip()
    ip = lockout.client_ip(request)
    known = None
    if identifier:
        try:
            known = User.objects.get_by_natural_key(identifier)
        except User.DoesNotExist:
            known = None
    subject = lockout.subject_for(identifier, known)
    lockout.ensure_not_locked(subject=subject, ip=ip)

    django_request = getattr(request, "_request", request)
    user = None
    if identifier and password:
        user = authenticate(django_request, username=identifier, password=password)
    if user is None:
        lockout.record_failure(subject=subject, ip=ip)
        raise exceptions.AuthenticationFailed(INVALID_CREDENTIALS, code="invalid_credentials")
    lockout.reset(subject=subject)
    return user


@transaction.atomic
def token_pair_for_user(*, user, request=None) -> dict:
    """{"access", "refresh"} for a new login (a new token family); records last_login."""
    family = tokens.new_family_id()
    refresh, access = tokens.mint_pair(user_id=user.pk, family=family)
    if settings.SIMPLE_JWT.get("UPDATE_LAST_LOGIN"):
        now = timezone.now()
        User.objects.filter(pk=user.pk).update(last_login=now)
        user.last_login = now
    tokens_issued.send(
        sender=User,
        user=user,
        request=request,
        family=family,
        refresh_expires_at=tokens.expires_at(refresh.payload),
    )
    return {"access": str(access), "refresh": str(refresh)}


# --- Revocation -----------------------------------------------------------------------------------


def _revoke_rows(rows: list[RevokedToken]) -> None:
    """Inserts revocations (already-revoked ones are kept as they are) and caches them."""
    RevokedToken.objects.bulk_create(rows, ignore_conflicts=True)
    try:
        for row in rows:
            denylist.remember(row)
    except denylist.DenylistUnavailable as exc:
        raise RevocationUnavailable() from exc


def _row(*, kind, identifier, payload=None, user_id=None, reason, expires_at=None):
    return RevokedToken(
        kind=kind,
        identifier=identifier,
        user_id=user_id if user_id is not None else tokens.user_id_of(payload or {}),
        reason=reason,
        expires_at=expires_at or tokens.expires_at(payload),
    )


def _family_row(*, family: str, user_id, reason) -> RevokedToken:
    # No token of a login outlives the newest refresh token, issued at the latest now.
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    return _row(
        kind=RevokedToken.Kind.FAMILY,
        identifier=family,
        user_id=user_id,
        reason=reason,
        expires_at=timezone.now() + lifetime,
    )


def _token_rows(payload: dict, *, reason: str, with_family: bool) -> list[RevokedToken]:
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
def token_family_revoke(*, family: str, user=None, reason: str = RevokedToken.Reason.ADMIN) -> None:
    """Revokes every token of one login (its `fam` claim): access and refresh alike."""
    _revoke_rows([_family_row(family=family, user_id=getattr(user, "pk", None), reason=reason)])


@transaction.atomic
def token_revoke(*, token: str, reason: str) -> None:
    """Revokes one access or refresh token (400 naming `token` if it is invalid or expired)."""
    try:
        payload = UntypedToken(token).payload
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
            payloads.append(token_class(value).payload)
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
def user_tokens_revoke_all(*, user, reason: str = RevokedToken.Reason.REVOKE_ALL) -> None:
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


def token_refresh(*, refresh: str) -> dict:
    """Rotates a refresh token: {"access", "refresh"} of the same family, the old one revoked.

    Presenting a refresh token that was already used revokes its whole family (401). Not one
    transaction on purpose: the family revocation must commit even though the request fails.
    """
    try:
        payload = RefreshToken(refresh).payload
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
    if denylist.is_revoked(payload):
        raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")
    user_id = tokens.user_id_of(payload)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid")
    family = tokens.family_of(payload)
    try:
        with transaction.atomic():
            # The unique (kind, identifier) row is the atomic "this refresh token is spent" claim.
            RevokedToken.objects.create(
                kind=RevokedToken.Kind.REFRESH,
                identifier=tokens.jti_of(payload),
                user=user,
                reason=RevokedToken.Reason.ROTATED,
                expires_at=tokens.expires_at(payload),
            )
    except IntegrityError:
        token_family_revoke(family=family, user=user, reason=RevokedToken.Reason.REUSE_DETECTED)
        logger.warning("Refresh token reuse detected for user %s: token family revoked.", user.pk)
        raise exceptions.AuthenticationFailed(
            "Refresh token was already used: every token of this login has been revoked.",
            code="token_reused",
        ) from None
    new_refresh, access = tokens.mint_pair(user_id=user.pk, family=family)
    tokens_refreshed.send(sender=User, user=user, family=family)
    return {"access": str(access), "refresh": str(new_refresh)}
