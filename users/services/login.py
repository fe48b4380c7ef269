"""Login: credentials checked under the lockout (users.lockout), and the token pair of a new
login (a new token family, `tokens_issued`).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions

from backend.common.types import AnyRequest
from users import lockout, tokens
from users.models import User
from users.signals import tokens_issued

INVALID_CREDENTIALS = "Unable to log in with the provided credentials."


def user_authenticate(*, identifier: str, password: str, request: AnyRequest) -> User:
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
def token_pair_for_user(*, user: User, request: AnyRequest | None = None) -> dict[str, Any]:
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
