"""Writes of OAuth2 applications (staff): create, update, rotate the secret, delete, account binding."""

from __future__ import annotations

from typing import Any, cast

from django.db import transaction
from rest_framework import serializers

from accounts.selectors import membership_get
from users.models import User

# django-oauth-toolkit ships no types: its (swappable) Application model is Any to mypy.
OAuthApplication = Any


OAUTH_APPLICATION_FIELDS = (
    "name",
    "client_type",
    "authorization_grant_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "allowed_origins",
    "skip_authorization",
)


def _oauth_bind_account(*, application: OAuthApplication, account_id: int | None) -> None:
    from accounts.models import Membership
    from endpoints.models import OAuthApplicationAccount

    if account_id is None:
        OAuthApplicationAccount.objects.filter(application=application).delete()
        return
    membership = membership_get(user=application.user, account_id=account_id)
    if membership is None or membership.role != Membership.Role.ADMIN:
        raise serializers.ValidationError(
            {"account": ["The application's user must be an Admin of this account."]}
        )
    OAuthApplicationAccount.objects.update_or_create(
        application=application, defaults={"account_id": account_id}
    )


def _oauth_new_client_secret() -> str:
    from oauth2_provider.generators import generate_client_secret

    return str(generate_client_secret())


@transaction.atomic
def oauth_application_create(
    *, user: User, data: dict[str, Any], account_id: int | None = None
) -> tuple[OAuthApplication, str]:
    """A new OAuth2 application owned by `user`; returns `(application, raw_client_secret)`.

    The secret is hashed on save (DOT), so this is the only time it can be shown.
    """
    from oauth2_provider.models import get_application_model

    application = get_application_model()(user=user, hash_client_secret=True)
    for field in OAUTH_APPLICATION_FIELDS:
        if field in data:
            setattr(application, field, data[field])
    raw_secret = _oauth_new_client_secret()
    application.client_secret = raw_secret
    application.full_clean()
    application.save()
    _oauth_bind_account(application=application, account_id=account_id)
    return application, raw_secret


_UNSET = object()


@transaction.atomic
def oauth_application_update(
    *,
    application: OAuthApplication,
    data: dict[str, Any],
    user: User | None = None,
    account_id: int | None | object = _UNSET,
) -> OAuthApplication:
    """Changes an application's settings, owner and/or account binding (re-checked)."""
    for field in OAUTH_APPLICATION_FIELDS:
        if field in data:
            setattr(application, field, data[field])
    if user is not None:
        application.user = user
    # The stored secret is a hash; full_clean must not re-validate it as a raw secret.
    application.full_clean(exclude=["client_secret"])
    application.save()
    if account_id is _UNSET:
        binding = getattr(application, "account_binding", None)
        account_id = binding.account_id if binding is not None else None
    _oauth_bind_account(application=application, account_id=cast("int | None", account_id))
    return application


@transaction.atomic
def oauth_application_rotate_secret(
    *, application: OAuthApplication
) -> tuple[OAuthApplication, str]:
    """A new client secret (returned once); the old one stops working at once."""
    raw_secret = _oauth_new_client_secret()
    application.client_secret = raw_secret
    application.save(update_fields=["client_secret", "updated"])
    return application, raw_secret


@transaction.atomic
def oauth_application_delete(*, application: OAuthApplication) -> None:
    """Deletes the application; its grants and tokens go with it (cascade)."""
    application.delete()
