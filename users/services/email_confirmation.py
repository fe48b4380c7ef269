"""Email confirmation: send, resend and confirm (single-use, expiring token)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions

from backend.common.exceptions import ApplicationError
from users import emails
from users.models import EmailConfirmationToken, User
from users.services.links import LINK_INVALID, mail_context, token_claim, token_hash


@transaction.atomic
def email_confirmation_send(*, user: User) -> EmailConfirmationToken:
    """Issues a confirmation token for the user's email (older ones stop working), mailed on commit."""
    EmailConfirmationToken.objects.filter(user=user, used_at__isnull=True).delete()
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    timeout = settings.EMAIL_CONFIRMATION_TIMEOUT
    row = EmailConfirmationToken.objects.create(
        user=user,
        email=user.email,
        token_hash=token_hash(raw),
        created_at=now,
        expires_at=now + timedelta(seconds=timeout),
    )
    emails.send_on_commit(
        "email_confirmation",
        mail_context(
            user=user, raw=raw, url_template=settings.EMAIL_CONFIRMATION_URL, timeout=timeout
        ),
    )
    return row


@transaction.atomic
def email_confirmation_resend(*, user: User) -> EmailConfirmationToken:
    """A new confirmation email (400 if the address is already confirmed)."""
    if user.email_confirmed:
        raise ApplicationError("Your email address is already confirmed.")
    return email_confirmation_send(user=user)


@transaction.atomic
def email_confirm(*, token: str) -> User:
    """Confirms the email the token was sent to; the token works once, until it expires."""
    row = (
        EmailConfirmationToken.objects.select_related("user")
        .filter(token_hash=token_hash(token))
        .first()
    )
    now = timezone.now()
    # A token sent to an address the user has since changed proves nothing about the new one.
    if (
        row is None
        or not row.user.is_active
        or row.email.lower() != row.user.email.lower()
        or not token_claim(EmailConfirmationToken, row, now=now)
    ):
        raise exceptions.ValidationError({"token": [LINK_INVALID]})
    user = row.user
    User.objects.filter(pk=user.pk).update(email_confirmed=True, updated_at=now)
    user.email_confirmed = True
    return user
