"""Password reset (no enumeration: known and unknown addresses answer alike, the mail is made
by a worker) and password change; both revoke every token of the user.
"""

import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions

from backend.common.resilience import BrokerUnavailable, publish
from backend.common.types import AnyRequest
from users import emails, lockout
from users.models import PasswordResetToken, RevokedToken, User
from users.services.links import LINK_INVALID, mail_context, token_claim, token_hash
from users.services.login import token_pair_for_user
from users.services.tokens import user_tokens_revoke_all

logger = logging.getLogger(__name__)


def password_reset_request(*, email: str, request: AnyRequest | None = None) -> None:
    """Asks for a reset link to be mailed if an active user has this email; says nothing either way.

    The caller answers the same whether or not the address exists (no user enumeration). With
    PASSWORD_RESET_MAIL_ASYNC (the default) the request does the same work in both cases, one
    task published after commit, and the worker looks the address up, makes the token and sends
    the mail, so not even the response time tells a known address from an unknown one.
    """
    email = User.objects.normalize_email(email or "").strip()
    if not email:
        return
    requested_ip = lockout.valid_ip(lockout.client_ip(request)) if request is not None else None
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
        token_hash=token_hash(raw),
        created_at=now,
        expires_at=now + timedelta(seconds=timeout),
        requested_ip=lockout.valid_ip(requested_ip),
    )
    emails.send_on_commit(
        "password_reset",
        mail_context(user=user, raw=raw, url_template=settings.PASSWORD_RESET_URL, timeout=timeout),
    )
    return True


def _validated_password(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({field: list(exc.messages)}) from exc


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str) -> User:
    """Sets a new password with a reset token (once) and revokes every token of the user.

    The password is validated before the token is spent, so a weak password does not burn it.
    """
    row = (
        PasswordResetToken.objects.select_related("user")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if row is None or not row.is_usable or not row.user.is_active:
        raise exceptions.ValidationError({"token": [LINK_INVALID]})
    user = row.user
    _validated_password(new_password, user=user, field="new_password")
    now = timezone.now()
    if not token_claim(PasswordResetToken, row, now=now):
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
def password_change(
    *, user: User, old_password: str, new_password: str, request: AnyRequest | None = None
) -> dict[str, Any]:
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
