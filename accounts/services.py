"""Writes about accounts, memberships and invitations.

Every service is keyword-only and atomic. Emails and signals go out only after the transaction
commits, so a rolled-back write never sends mail or tells other apps about a change that did
not happen.
"""

import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.exceptions import PermissionDenied, ValidationError

from accounts.app_tokens import app_token_forget
from accounts.models import Account, Membership
from accounts.signals import account_secret_rotated
from accounts.tokens import invitation_token_generator
from backend.common.exceptions import ApplicationError, Conflict
from users.models import User
from users.services import user_profile_update, user_tokens_revoke_all

logger = logging.getLogger(__name__)

RoleValue = Membership.Role | int | str  # a role, its number or its name (Role.parse)

NAME_TAKEN = "An account with this name already exists."
LAST_ADMIN = "An account must keep at least one Admin: promote another member first."


# --- accounts -------------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": ["This field may not be blank."]})
    if len(name) > cast(int, Account._meta.get_field("name").max_length):
        raise ValidationError({"name": ["Ensure this field has no more than 255 characters."]})
    return name


def _save_account_name(account: Account) -> None:
    """Saves a new or renamed account; a taken name (any case, even in a race) is a 400."""
    if Account.objects.filter(name__iexact=account.name).exclude(pk=account.pk).exists():
        raise ValidationError({"name": [NAME_TAKEN]})
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:
        raise ValidationError({"name": [NAME_TAKEN]}) from exc


@transaction.atomic
def account_create(*, name: str, created_by: User) -> Account:
    """Creates an account; its creator becomes its Admin."""
    account = Account(name=_clean_name(name), created_by=created_by)
    _save_account_name(account)
    Membership.objects.create(account=account, user=created_by, role=Membership.Role.ADMIN)
    return account


def _personal_account_base_name(email: str) -> str:
    # The local part only: account names are checked for uniqueness by anyone creating an
    # account, so a full email address as a name would let callers probe who is registered.
    local = (email or "").split("@", 1)[0]
    base = re.sub(r"[^\w.+-]+", "-", local).strip("-") or "account"
    return base[:200]


@transaction.atomic
def account_create_personal(*, user: User) -> Account:
    """The account every registered user gets, with the user as Admin (seed 003)."""
    base = _personal_account_base_name(user.email)
    candidate = base
    for _attempt in range(10):
        if not Account.objects.filter(name__iexact=candidate).exists():
            try:
                with transaction.atomic():
                    account = Account.objects.create(name=candidate, created_by=user)
            except IntegrityError:
                pass  # Taken by a concurrent registration between the check and the insert.
            else:
                Membership.objects.create(account=account, user=user, role=Membership.Role.ADMIN)
                return account
        candidate = f"{base}-{secrets.token_hex(3)}"
    raise ApplicationError("Could not find a free name for the personal account.")


@transaction.atomic
def account_update(*, account: Account, name: str | None = None) -> Account:
    if name is not None:
        account.name = _clean_name(name)
        _save_account_name(account)
    return account


@transaction.atomic
def account_delete(*, account: Account) -> None:
    account.delete()  # the post_delete receiver forgets its app token


@transaction.atomic
def account_secret_rotate(*, account: Account) -> Account:
    """Gives the account a new app_secret_token; the old one stops working at once."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    old_token = locked.app_secret_token
    locked.app_secret_token = uuid.uuid4()
    locked.save(update_fields=["app_secret_token", "updated_at"])
    account.app_secret_token = locked.app_secret_token
    account.updated_at = locked.updated_at
    transaction.on_commit(lambda: app_token_forget(old_token))
    transaction.on_commit(
        lambda: account_secret_rotated.send(sender=Account, account=locked, old_token=old_token)
    )
    return account


# --- memberships ----------------------------------------------------------------------------------


def _lock_account(account_id: int) -> Account:
    # Serialises role changes of one account, so two admins demoting each other at the same
    # time cannot leave it with none.
    return Account.objects.select_for_update().get(pk=account_id)


def _is_last_admin(membership: Membership) -> bool:
    if not membership.is_admin:
        return False
    others = Membership.objects.filter(account_id=membership.account_id, role=Membership.Role.ADMIN)
    return not others.exclude(pk=membership.pk).exists()


@transaction.atomic
def membership_add(
    *, account: Account, user: User, role: RoleValue = Membership.Role.NORMAL_USER
) -> Membership:
    """Adds an existing user to the account; already a member → 409."""
    role = Membership.Role.parse(role)
    _lock_account(account.pk)
    if Membership.objects.filter(account=account, user=user).exists():
        raise Conflict("This user is already a member of the account.")
    return Membership.objects.create(account=account, user=user, role=role)


@transaction.atomic
def membership_update_role(*, membership: Membership, role: RoleValue) -> Membership:
    role = Membership.Role.parse(role)
    _lock_account(membership.account_id)
    membership.refresh_from_db()
    if role != Membership.Role.ADMIN and _is_last_admin(membership):
        raise Conflict(LAST_ADMIN)
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _lock_account(membership.account_id)
    membership.refresh_from_db()
    if _is_last_admin(membership):
        raise Conflict(LAST_ADMIN)
    membership.delete()


# --- invitations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationResult:
    """What an invitation did: the membership, and whether the user or membership is new."""

    membership: Membership
    user_created: bool
    membership_created: bool
    pending: bool  # The user has not set a password yet: they got a set-password link.


def _is_pending_invitee(user: User) -> bool:
    return not user.is_active and not user.has_usable_password()


def invitation_url(*, user: User) -> str:
    """The set-password link for an invited user (single use; expires after PASSWORD_RESET_TIMEOUT)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    return str(settings.INVITATION_URL.format(uid=uid, token=token))


def _send_email(*, template: str, to: str, context: dict[str, Any]) -> None:
    subject = " ".join(render_to_string(f"accounts/email/{template}_subject.txt", context).split())
    text = render_to_string(f"accounts/email/{template}.txt", context)
    html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        # The membership exists either way; the admin can invite again to resend the link.
        # The message body is not logged: it carries the set-password link.
        logger.exception("Could not send the %s email for user %s", template, context["user_id"])


def _send_invitation_email(
    *, user_id: uuid.UUID, account_id: int, invited_by_id: uuid.UUID
) -> None:
    user = User.objects.filter(pk=user_id).first()
    account = Account.objects.filter(pk=account_id).first()
    if user is None or account is None:
        return
    inviter = User.objects.filter(pk=invited_by_id).first()
    pending = _is_pending_invitee(user)
    context: dict[str, Any] = {
        "user_id": user.pk,
        "email": user.email,
        "account_name": account.name,
        "inviter": inviter.get_full_name() if inviter else "An administrator",
        "role": Membership.objects.filter(account=account, user=user)
        .values_list("role", flat=True)
        .first(),
        "expiry_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "link": invitation_url(user=user) if pending else None,
        "login_url": settings.FRONTEND_URL,
    }
    context["role_name"] = Membership.Role(context["role"]).label if context["role"] else ""
    template = "invitation" if pending else "added_to_account"
    _send_email(template=template, to=user.email, context=context)


@transaction.atomic
def user_invite(
    *, account: Account, email: str, invited_by: User, role: RoleValue = Membership.Role.NORMAL_USER
) -> InvitationResult:
    """Invites someone by email to the account.

    An existing user is added with the role and told by email. An unknown address gets a new
    inactive user (no usable password) and an email with a single-use set-password link.
    Inviting a pending invitee again resends the link; inviting a member otherwise → 409.
    """
    role = Membership.Role.parse(role)
    email = User.objects.normalize_email(email)
    _lock_account(account.pk)

    user = User.objects.filter(email__iexact=email).first()
    user_created = False
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=None, is_active=False)
            user_created = True
        except IntegrityError:
            # Registered or invited concurrently: use that user.
            user = User.objects.get(email__iexact=email)

    pending = _is_pending_invitee(user)
    membership = Membership.objects.filter(account=account, user=user).first()
    membership_created = membership is None
    if membership is None:
        membership = Membership.objects.create(account=account, user=user, role=role)
    elif not pending:
        raise Conflict(
            "This user is already a member of the account.",
            extra={"email": ["Already a member of this account."]},
        )

    user_id, account_id, inviter_id = user.pk, account.pk, invited_by.pk
    transaction.on_commit(
        lambda: _send_invitation_email(
            user_id=user_id, account_id=account_id, invited_by_id=inviter_id
        )
    )
    return InvitationResult(
        membership=membership,
        user_created=user_created,
        membership_created=membership_created,
        pending=pending,
    )


INVALID_INVITATION = "This invitation link is invalid or has expired."


def invitation_user_get(*, uid: str, token: str) -> User | None:
    """The invited user if the uid/token pair is valid now, else None (no locking)."""
    try:
        pk = uuid.UUID(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None or not invitation_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def invitation_accept(*, uid: str, token: str, password: str) -> User:
    """Sets the invited user's password and activates them; the link then stops working."""
    user = invitation_user_get(uid=uid, token=token)
    if user is not None:
        # Re-check under a row lock: of two concurrent accepts only one may pass.
        user = User.objects.select_for_update().get(pk=user.pk)
        if not invitation_token_generator.check_token(user, token):
            user = None
    if user is None:
        raise ValidationError({"token": [INVALID_INVITATION]})
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.is_active = True
    # The link reached this mailbox, which proves the address.
    user.email_confirmed = True
    user.save(update_fields=["password", "is_active", "email_confirmed", "updated_at"])
    return user


# --- users, as seed 003's PUT /users/{id}/ edits them -------------------------------------------------


@transaction.atomic
def user_update(
    *,
    actor: User,
    user: User,
    email: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
    **profile: Any,
) -> User:
    """Edits a user on behalf of `actor`, who must be that user or staff (the view checks).

    Profile fields go through users' own service. A new email is unconfirmed until confirmed
    again. A new password needs the current one when users change their own, and ends every
    session of the user (all their tokens are revoked).
    """
    if actor.pk != user.pk and not actor.is_staff:
        # Defence in depth: account Admins never change another user's email or password.
        raise PermissionDenied("Only the user or staff can edit a user.")
    if profile:
        user_profile_update(user=user, **profile)

    if email is not None:
        email = User.objects.normalize_email(email)
        if email != user.email:
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise ValidationError({"email": ["A user with this email already exists."]})
            user.email = email
            user.email_confirmed = False
            try:
                with transaction.atomic():
                    user.save(update_fields=["email", "email_confirmed", "updated_at"])
            except IntegrityError as exc:
                raise ValidationError(
                    {"email": ["A user with this email already exists."]}
                ) from exc

    if password is not None:
        if actor.pk == user.pk and not user.check_password(current_password or ""):
            raise ValidationError(
                {"current_password": ["Give your current password to set a new one."]}
            )
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationError({"password": list(exc.messages)}) from exc
        user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
        user_tokens_revoke_all(user=user)
    return user
