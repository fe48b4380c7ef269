"""Registration: a new user (unique email and username regardless of case), the
`user_registered` signal, and the first confirmation mail.
"""

import uuid
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error

from backend.common.types import AnyRequest
from users.models import User
from users.services.email_confirmation import email_confirmation_send
from users.signals import user_registered

PROFILE_FIELDS = frozenset(
    {"first_name", "last_name", "phone_number", "birth_date", "notification_preferences"}
)


def user_full_clean(user: User) -> None:
    """Field validation as a DRF 400 (uniqueness is checked case-insensitively by the caller)."""
    try:
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(as_serializer_error(exc)) from exc


def username_check(username: str, *, exclude_pk: uuid.UUID | None = None) -> None:
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
    *,
    email: str,
    password: str,
    username: str | None = None,
    request: AnyRequest | None = None,
    **profile: Any,
) -> User:
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
        username_check(username)
    else:
        username = User.objects._unique_username(email)

    user = User(email=email, username=username, **profile)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    user_full_clean(user)
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
