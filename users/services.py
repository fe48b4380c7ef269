"""Writes of the identity app: registration, login, JWT issue / rotation / revocation, profile,
and the account lifecycle (email confirmation, password reset and change, devices,
pre-registration, credits, Stripe checkout and webhook events).

Other apps call these (accounts' seed-003 login, password reset, device tracking); the views
stay thin. Token revocations go to PostgreSQL and to the cache denylist (users.denylist).
"""

import hashlib
import ipaddress
import logging
import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import user_agents
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken

from backend.common.exceptions import ApplicationError, Conflict
from backend.common.resilience import BrokerUnavailable, publish
from users import denylist, emails, lockout, payments, tokens
from users.exceptions import InsufficientCredits, LoginLockedOut, RevocationUnavailable
from users.models import (
    CreditTransaction,
    Device,
    DeviceLogin,
    EmailConfirmationToken,
    PasswordResetToken,
    PreRegistration,
    RevokedToken,
    StripeEvent,
)
from users.signals import tokens_issued, tokens_refreshed, user_registered

logger = logging.getLogger(__name__)

User = get_user_model()

__all__ = [
    "LoginLockedOut",
    "credits_grant",
    "credits_spend",
    "device_record_login",
    "device_revoke",
    "device_touch",
    "email_confirm",
    "email_confirmation_resend",
    "email_confirmation_send",
    "password_change",
    "password_reset_confirm",
    "password_reset_request",
    "payments_checkout_session_create",
    "pre_registration_create",
    "stripe_event_process",
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
    email_confirmation_send(user=user)
    return user


@transaction.atomic
def user_profile_update(*, user, **fields):
    """Updates the caller's own profile fields (not email, password or credits).

    `avatar` is an already-checked image upload (users.serializers) or None to remove it; it is
    written to the default storage only once every other field is valid, and the previous file
    is deleted after commit.
    """
    unknown = set(fields) - PROFILE_FIELDS - {"username", "avatar"}
    if unknown:
        raise TypeError(f"user_profile_update() got unexpected fields: {sorted(unknown)}")
    has_avatar = "avatar" in fields
    avatar = fields.pop("avatar", None)
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
    update_fields = [*fields, "updated_at"]
    old_avatar = user.avatar.name if user.avatar else ""
    stored = ""
    if has_avatar:
        update_fields.append("avatar")
        if avatar is None:
            user.avatar = None
        else:
            extension = os.path.splitext(avatar.name)[1].lower() or ".img"
            # A random name: the URL reveals neither the user nor the uploaded file's name.
            user.avatar.save(f"{uuid.uuid4().hex}{extension}", avatar, save=False)
            stored = user.avatar.name
    try:
        with transaction.atomic():
            user.save(update_fields=update_fields)
    except IntegrityError as exc:
        if stored:
            user.avatar.storage.delete(stored)
        raise exceptions.ValidationError(
            {"username": ["A user with this username already exists."]}
        ) from exc
    if has_avatar and old_avatar and old_avatar != stored:
        storage = User._meta.get_field("avatar").storage
        transaction.on_commit(lambda: _delete_file(storage, old_avatar))
    return user


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.warning("Could not delete the replaced avatar %s", name)


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


def _refresh_token_reused(*, family: str, user) -> None:
    """Revokes the whole login of a reused refresh token and refuses the call (401)."""
    token_family_revoke(family=family, user=user, reason=RevokedToken.Reason.REUSE_DETECTED)
    logger.warning("Refresh token reuse detected for user %s: token family revoked.", user.pk)
    raise exceptions.AuthenticationFailed(
        "Refresh token was already used: every token of this login has been revoked.",
        code="token_reused",
    )


def token_refresh(*, refresh: str) -> dict:
    """Rotates a refresh token: {"access", "refresh"} of the same family, the old one revoked.

    Presenting a refresh token that was already used revokes its whole family (401). Not one
    transaction on purpose: the family revocation must commit even though the request fails.
    """
    try:
        payload = RefreshToken(refresh).payload
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
    user_id = tokens.user_id_of(payload)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid")
    family = tokens.family_of(payload)
    jti = tokens.jti_of(payload)
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


# --- Email confirmation and password reset --------------------------------------------------------

LINK_INVALID = "This link is invalid, has expired or was already used."


def _token_hash(raw: str) -> str:
    # The token carries 256 random bits, so a plain SHA-256 is enough to keep the table useless.
    return hashlib.sha256(raw.encode()).hexdigest()


def _hours(seconds: int) -> int:
    return max(1, round(seconds / 3600))


def _claim(model, row, *, now) -> bool:
    """Marks the token used if it still is usable: only one caller can win this UPDATE."""
    return bool(
        model.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
    )


def _mail_context(*, user, raw: str, url_template: str, timeout: int) -> dict:
    return {
        "to": user.email,
        "user_id": str(user.pk),
        "username": user.get_short_name(),
        "email": user.email,
        "token": raw,
        "link": url_template.format(token=raw),
        "valid_hours": _hours(timeout),
    }


@transaction.atomic
def email_confirmation_send(*, user) -> EmailConfirmationToken:
    """Issues a confirmation token for the user's email (older ones stop working), mailed on commit."""
    EmailConfirmationToken.objects.filter(user=user, used_at__isnull=True).delete()
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    timeout = settings.EMAIL_CONFIRMATION_TIMEOUT
    row = EmailConfirmationToken.objects.create(
        user=user,
        email=user.email,
        token_hash=_token_hash(raw),
        created_at=now,
        expires_at=now + timedelta(seconds=timeout),
    )
    emails.send_on_commit(
        "email_confirmation",
        _mail_context(
            user=user, raw=raw, url_template=settings.EMAIL_CONFIRMATION_URL, timeout=timeout
        ),
    )
    return row


@transaction.atomic
def email_confirmation_resend(*, user) -> EmailConfirmationToken:
    """A new confirmation email (400 if the address is already confirmed)."""
    if user.email_confirmed:
        raise ApplicationError("Your email address is already confirmed.")
    return email_confirmation_send(user=user)


@transaction.atomic
def email_confirm(*, token: str):
    """Confirms the email the token was sent to; the token works once, until it expires."""
    row = (
        EmailConfirmationToken.objects.select_related("user")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    now = timezone.now()
    # A token sent to an address the user has since changed proves nothing about the new one.
    if (
        row is None
        or not row.user.is_active
        or row.email.lower() != row.user.email.lower()
        or not _claim(EmailConfirmationToken, row, now=now)
    ):
        raise exceptions.ValidationError({"token": [LINK_INVALID]})
    user = row.user
    User.objects.filter(pk=user.pk).update(email_confirmed=True, updated_at=now)
    user.email_confirmed = True
    return user


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def password_reset_request(*, email: str, request=None) -> None:
    """Asks for a reset link to be mailed if an active user has this email; says nothing either way.

    The caller answers the same whether or not the address exists (no user enumeration). With
    PASSWORD_RESET_MAIL_ASYNC (the default) the request does the same work in both cases, one
    task published after commit, and the worker looks the address up, makes the token and sends
    the mail, so not even the response time tells a known address from an unknown one.
    """
    email = User.objects.normalize_email(email or "").strip()
    if not email:
        return
    requested_ip = _valid_ip(lockout.client_ip(request)) if request is not None else None
    if settings.PASSWORD_RESET_MAIL_ASYNC:
        transaction.on_commit(
            lambda: _password_reset_enqueue(email=email, requested_ip=requested_ip)
        )
    else:
        password_reset_deliver(email=email, requested_ip=requested_ip)


def _password_reset_enqueue(*, email: str, requested_ip: str | None) -> None:
    from users.tasks import send_password_reset  # the tasks module imports this one

    try:
        publish(send_password_reset, kwargs={"email": email, "requested_ip": requested_ip})
    except BrokerUnavailable:  # broker down: better a slower answer than no mail
        logger.warning("Broker unavailable: sending the password reset mail within the request.")
        password_reset_deliver(email=email, requested_ip=requested_ip)


@transaction.atomic
def password_reset_deliver(*, email: str, requested_ip: str | None = None) -> bool:
    """Makes a reset token and mails its link if an active user has this email (True if so)."""
    user = User.objects.filter(email__iexact=email, is_active=True).first() if email else None
    if user is None:
        return False
    # Only the newest link works.
    PasswordResetToken.objects.filter(user=user, used_at__isnull=True).delete()
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    timeout = settings.PASSWORD_RESET_TIMEOUT
    PasswordResetToken.objects.create(
        user=user,
        token_hash=_token_hash(raw),
        created_at=now,
        expires_at=now + timedelta(seconds=timeout),
        requested_ip=_valid_ip(requested_ip),
    )
    emails.send_on_commit(
        "password_reset",
        _mail_context(
            user=user, raw=raw, url_template=settings.PASSWORD_RESET_URL, timeout=timeout
        ),
    )
    return True


def _validated_password(password: str, *, user, field: str) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({field: list(exc.messages)}) from exc


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str):
    """Sets a new password with a reset token (once) and revokes every token of the user.

    The password is validated before the token is spent, so a weak password does not burn it.
    """
    row = (
        PasswordResetToken.objects.select_related("user")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if row is None or not row.is_usable or not row.user.is_active:
        raise exceptions.ValidationError({"token": [LINK_INVALID]})
    user = row.user
    _validated_password(new_password, user=user, field="new_password")
    now = timezone.now()
    if not _claim(PasswordResetToken, row, now=now):
        raise exceptions.ValidationError({"token": [LINK_INVALID]})
    user.set_password(new_password)
    # The link reached this mailbox, which proves the address.
    user.email_confirmed = True
    user.save(update_fields=["password", "email_confirmed", "updated_at"])
    PasswordResetToken.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    user_tokens_revoke_all(user=user, reason=RevokedToken.Reason.PASSWORD_CHANGED)
    # Whoever was locked out by failed logins is the owner who just proved the mailbox.
    lockout.reset(subject=lockout.subject_for(user.email, user))
    return user


@transaction.atomic
def password_change(*, user, old_password: str, new_password: str, request=None) -> dict:
    """Changes the caller's password; every other session is logged out, this one gets a new pair."""
    if not user.check_password(old_password):
        raise exceptions.ValidationError(
            {"old_password": ["Your old password was entered incorrectly."]}
        )
    _validated_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    user_tokens_revoke_all(user=user, reason=RevokedToken.Reason.PASSWORD_CHANGED)
    return token_pair_for_user(user=user, request=request)


# --- Devices ------------------------------------------------------------------------------------------

USER_AGENT_MAX_LENGTH = 512


def _describe_user_agent(user_agent: str) -> dict:
    parsed = user_agents.parse(user_agent)
    if parsed.is_bot:
        kind = "bot"
    elif parsed.is_tablet:
        kind = "tablet"
    elif parsed.is_mobile:
        kind = "mobile"
    elif parsed.is_pc:
        kind = "pc"
    else:
        kind = "other"

    def label(part) -> str:
        return f"{part.family} {part.version_string}".strip()[:100]

    return {
        "browser": label(parsed.browser),
        "os": label(parsed.os),
        "device": (parsed.device.family or "")[:100],
        "device_type": kind,
    }


@transaction.atomic
def device_record_login(*, user, request, family: str, expires_at) -> Device:
    """Records the device of a new login (same user agent + IP → same device) and ties the
    login's token family to it, so revoking the device revokes that login.
    """
    meta = getattr(request, "META", None) or {}
    user_agent = (meta.get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX_LENGTH]
    ip = _valid_ip(lockout.client_ip(request)) if request is not None else None
    now = timezone.now()
    active = Device.objects.filter(user=user, user_agent=user_agent, ip=ip, revoked_at__isnull=True)
    device = active.first()
    if device is None:
        try:
            with transaction.atomic():
                device = Device.objects.create(
                    user=user,
                    user_agent=user_agent,
                    ip=ip,
                    first_seen=now,
                    last_seen=now,
                    **_describe_user_agent(user_agent),
                )
        except IntegrityError:  # a concurrent login from the same device created it
            device = active.get()
    if device.last_seen != now:
        active.filter(pk=device.pk).update(last_seen=now)
        device.last_seen = now
    DeviceLogin.objects.create(device=device, family=family, created_at=now, expires_at=expires_at)
    return device


def device_touch(*, family: str) -> None:
    """Keeps the device of a refreshed login fresh: at most one write per interval per login."""
    interval = settings.DEVICE_LAST_SEEN_INTERVAL_SECONDS
    try:
        due = cache.add(f"device:seen:{family}", 1, interval)
    except Exception:  # the cache only saves writes: without it, write
        due = True
    if due:
        Device.objects.filter(logins__family=family, revoked_at__isnull=True).update(
            last_seen=timezone.now()
        )


@transaction.atomic
def device_revoke(*, device: Device) -> None:
    """Revokes a device: every token of every login made from it gets 401 at once."""
    now = timezone.now()
    if not Device.objects.filter(pk=device.pk, revoked_at__isnull=True).update(revoked_at=now):
        return
    device.revoked_at = now
    families = device.logins.filter(expires_at__gt=now).values_list("family", flat=True)
    rows = [
        _family_row(
            family=family, user_id=device.user_id, reason=RevokedToken.Reason.DEVICE_REVOKED
        )
        for family in families
    ]
    if rows:
        _revoke_rows(rows)


# --- Pre-registration ----------------------------------------------------------------------------------


@transaction.atomic
def pre_registration_create(*, email: str) -> PreRegistration:
    """Keeps an email for later; the same address (in any case) is stored once."""
    email = User.objects.normalize_email(email).strip()
    existing = PreRegistration.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing
    row = PreRegistration(email=email)
    row.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:  # the same address arrived concurrently
        return PreRegistration.objects.get(email__iexact=email)
    return row


# --- Credits --------------------------------------------------------------------------------------------

CREDITS_MAX_AMOUNT = 1_000_000_000


def _check_amount(amount: int) -> None:
    if (
        isinstance(amount, bool)
        or not isinstance(amount, int)
        or not 0 < amount <= CREDITS_MAX_AMOUNT
    ):
        raise exceptions.ValidationError(
            {"amount": [f"Enter a whole number between 1 and {CREDITS_MAX_AMOUNT}."]}
        )


def _balance(user_id) -> int:
    return User.objects.filter(pk=user_id).values_list("credits", flat=True).get()


def _existing_transaction(*, user, reference: str, amount: int) -> CreditTransaction | None:
    existing = CreditTransaction.objects.filter(user=user, reference=reference).first()
    if existing is not None and existing.amount != amount:
        raise Conflict(
            "This reference was already used for another credit transaction.",
            extra={"reference": ["Already used with a different amount."]},
        )
    return existing


def _credits_apply(*, user, amount: int, reason: str, reference: str | None) -> CreditTransaction:
    """Adds `amount` (negative: spends) with one conditional UPDATE and records the transaction.

    The UPDATE is atomic in the database (`credits = credits + n`, for a debit only `WHERE
    credits >= n`), so concurrent calls never lose an update and never go below zero. A reference
    makes the call idempotent: a repeat returns the first transaction and changes nothing.
    """
    reference = (reference or "").strip()
    if reference:
        existing = _existing_transaction(user=user, reference=reference, amount=amount)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            rows = User.objects.filter(pk=user.pk)
            if amount < 0:
                rows = rows.filter(credits__gte=-amount)
            if not rows.update(credits=F("credits") + amount):
                raise InsufficientCredits(balance=_balance(user.pk), amount=-amount)
            balance = _balance(user.pk)
            record = CreditTransaction.objects.create(
                user=user, amount=amount, balance_after=balance, reason=reason, reference=reference
            )
    except IntegrityError:
        if not reference:
            raise
        # A concurrent call with the same reference won; ours was rolled back.
        existing = _existing_transaction(user=user, reference=reference, amount=amount)
        if existing is None:
            raise
        return existing
    user.credits = balance
    return record


@transaction.atomic
def credits_grant(
    *, user, amount: int, reason: str, reference: str | None = None
) -> CreditTransaction:
    """Adds credits (a purchase, a bonus); idempotent per `reference`."""
    _check_amount(amount)
    return _credits_apply(user=user, amount=amount, reason=reason, reference=reference)


@transaction.atomic
def credits_spend(
    *, user, amount: int, reason: str, reference: str | None = None
) -> CreditTransaction:
    """Debits credits, never below zero (402 when the balance is too low); idempotent per reference."""
    _check_amount(amount)
    return _credits_apply(user=user, amount=-amount, reason=reason, reference=reference)


# --- Stripe -------------------------------------------------------------------------------------------


def _checkout_price(*, pack: str | None, price_id: str | None) -> tuple[str, str, int, str]:
    """(price id, mode, credits per unit, pack name) from the server's own configuration.

    The credits granted never come from the client: only configured packs carry credits.
    """
    packs = settings.STRIPE_CREDIT_PACKS
    if pack:
        config = packs.get(pack)
        if config is None:
            raise exceptions.ValidationError(
                {"pack": [f"Unknown credit pack. Available: {', '.join(sorted(packs)) or 'none'}."]}
            )
        return config["price_id"], "payment", config["credits"], pack
    for name, config in packs.items():
        if config["price_id"] == price_id:
            return price_id, "payment", config["credits"], name
    if price_id in settings.STRIPE_SUBSCRIPTION_PRICE_IDS:
        return price_id, "subscription", 0, ""
    raise exceptions.ValidationError({"price_id": ["Unknown price."]})


def _stripe_customer_id(*, user, gateway) -> str:
    if user.stripe_customer_id:
        return user.stripe_customer_id
    customer = payments.call(
        "customer creation",
        gateway.v1.customers.create,
        params={"email": user.email, "metadata": {"user_id": str(user.pk)}},
        # Concurrent first checkouts of one user get the same customer back from Stripe.
        options={"idempotency_key": f"customer-for-user-{user.pk}"},
    )
    if not User.objects.filter(pk=user.pk, stripe_customer_id="").update(
        stripe_customer_id=customer.id
    ):
        user.refresh_from_db(fields=["stripe_customer_id"])
        return user.stripe_customer_id
    user.stripe_customer_id = customer.id
    return customer.id


def payments_checkout_session_create(
    *,
    user,
    success_url: str,
    cancel_url: str,
    pack: str | None = None,
    price_id: str | None = None,
    quantity: int = 1,
) -> dict:
    """Creates a Stripe Checkout Session (and the Stripe customer if needed): {"id", "url"}.

    No database transaction is held across the Stripe calls. The credits to grant on payment go
    into the session's metadata, which the signed `checkout.session.completed` event returns.
    """
    gateway = payments.client()  # 503 first: nothing to validate against without Stripe
    price, mode, credits_per_unit, pack_name = _checkout_price(pack=pack, price_id=price_id)
    metadata = {"user_id": str(user.pk)}
    if mode == "payment":
        metadata.update({"credits": str(credits_per_unit * quantity), "pack": pack_name})
    params = {
        "mode": mode,
        "customer": _stripe_customer_id(user=user, gateway=gateway),
        "client_reference_id": str(user.pk),
        "line_items": [{"price": price, "quantity": quantity}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
    }
    if mode == "subscription":
        params["subscription_data"] = {"metadata": {"user_id": str(user.pk)}}
    session = payments.call(
        "checkout session creation", gateway.v1.checkout.sessions.create, params=params
    )
    return {"id": session.id, "url": session.url}


def _user_for_stripe_object(obj: dict):
    """The user a Stripe object belongs to: our metadata first, then the Stripe customer."""
    candidates = [(obj.get("metadata") or {}).get("user_id"), obj.get("client_reference_id")]
    for candidate in candidates:
        try:
            user_id = uuid.UUID(str(candidate)) if candidate else None
        except ValueError:
            continue
        user = User.objects.filter(pk=user_id).first() if user_id else None
        if user is not None:
            return user
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return User.objects.filter(stripe_customer_id=customer).first() if customer else None


def _stripe_checkout_completed(event: dict) -> tuple[str, str]:
    session = event["data"]["object"]
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        # Delayed payment methods: credits come with checkout.session.async_payment_succeeded.
        return StripeEvent.Outcome.IGNORED, "payment not completed yet"
    try:
        credits = int((session.get("metadata") or {}).get("credits") or 0)
    except (TypeError, ValueError):
        credits = 0
    if credits <= 0:
        return StripeEvent.Outcome.IGNORED, "no credits in the session metadata"
    user = _user_for_stripe_object(session)
    if user is None:
        logger.warning("Stripe checkout session %s has no known user.", session.get("id"))
        return StripeEvent.Outcome.IGNORED, "unknown user"
    if session.get("customer") and not user.stripe_customer_id:
        User.objects.filter(pk=user.pk, stripe_customer_id="").update(
            stripe_customer_id=session["customer"]
        )
    credits_grant(
        user=user,
        amount=credits,
        reason="Stripe checkout",
        # One grant per checkout session, even if Stripe sends it under several events.
        reference=f"stripe:checkout:{session['id']}",
    )
    return StripeEvent.Outcome.PROCESSED, f"granted {credits} credits to {user.pk}"


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _stripe_subscription_changed(event: dict) -> tuple[str, str]:
    subscription = event["data"]["object"]
    user = _user_for_stripe_object(subscription)
    if user is None:
        return StripeEvent.Outcome.IGNORED, "unknown customer"
    items = (subscription.get("items") or {}).get("data") or [{}]
    first_item = items[0] or {}
    plan = (first_item.get("price") or {}).get("id") or (subscription.get("plan") or {}).get("id")
    period_end = subscription.get("current_period_end") or first_item.get("current_period_end")
    deleted = event["type"] == "customer.subscription.deleted"
    created = _timestamp(event.get("created")) or timezone.now()
    # Stripe does not guarantee delivery order: an event older than the one applied is stale.
    applied = (
        User.objects.filter(pk=user.pk)
        .filter(
            Q(subscription_event_created__isnull=True) | Q(subscription_event_created__lte=created)
        )
        .update(
            subscription_id=subscription.get("id") or "",
            subscription_status="canceled" if deleted else subscription.get("status") or "",
            subscription_plan=plan or "",
            subscription_current_period_end=_timestamp(period_end),
            subscription_event_created=created,
            updated_at=timezone.now(),
        )
    )
    if not applied:
        return StripeEvent.Outcome.IGNORED, "older than the subscription state already stored"
    return StripeEvent.Outcome.PROCESSED, f"subscription of {user.pk} updated"


STRIPE_EVENT_HANDLERS = {
    "checkout.session.completed": _stripe_checkout_completed,
    "checkout.session.async_payment_succeeded": _stripe_checkout_completed,
    "customer.subscription.created": _stripe_subscription_changed,
    "customer.subscription.updated": _stripe_subscription_changed,
    "customer.subscription.deleted": _stripe_subscription_changed,
}


@transaction.atomic
def stripe_event_process(*, event: dict) -> StripeEvent | None:
    """Handles a verified Stripe event exactly once; None if this event id was already handled.

    The StripeEvent row and the effect (credits, subscription) commit together: a crash in
    between leaves neither, and Stripe's retry does the work.
    """
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id:
        raise exceptions.ValidationError({"id": ["The event has no id."]})
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event_id,
                type=event_type[:255],
                livemode=bool(event.get("livemode")),
                outcome=StripeEvent.Outcome.IGNORED,
            )
    except IntegrityError:
        return None
    handler = STRIPE_EVENT_HANDLERS.get(event_type)
    if handler is None:
        record.detail = "event type not handled"
    else:
        record.outcome, detail = handler(event)
        record.detail = detail[:255]
    record.save(update_fields=["outcome", "detail"])
    return record
