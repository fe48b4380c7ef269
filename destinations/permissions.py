"""Access rules: account membership (404 for outsiders), Admin role for management actions,
and the ingest caller (CL-X-TOKEN, or an account-bound API key or OAuth2 application with the
ingest scope)."""

from oauth2_provider.models import AbstractAccessToken
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from accounts.models import Membership
from accounts.selectors import membership_get
from destinations.ingest_auth import (
    NOT_A_MEMBER,
    ingest_account_for_app_token,
    jwt_check,
    jwt_payload_of,
    user_is_member,
)
from endpoints.models import ApiKey
from endpoints.selectors import oauth_application_ingest_account

CL_X_TOKEN_HEADER = "CL-X-TOKEN"


def require_admin(membership: Membership, action: str) -> None:
    if not membership.is_admin:
        raise exceptions.PermissionDenied(f"Only the account's Admins can {action}.")


class IngestCallerPermission(BasePermission):
    """Resolves the account that the ingest call is for, on `request.ingest_account_id`.

    CL-X-TOKEN decides when present (seed 003's curl sends it next to a user's token: then that
    user must be a member of the account, SPEC section 6); otherwise an API key bound to an
    account with the ingest scope, or an OAuth2 token with the ingest scope of an application
    bound to an account. Any Authorization header sent has already been checked by the
    authentication classes (an invalid one is a 401).
    """

    def has_permission(self, request, view) -> bool:
        raw_token = request.headers.get(CL_X_TOKEN_HEADER)
        jwt_payload = jwt_payload_of(request)
        if raw_token is not None:
            account_id = ingest_account_for_app_token(raw_token=raw_token, jwt_payload=jwt_payload)
            user = request.user
            if (
                jwt_payload is None
                and user is not None
                and user.is_authenticated
                and not user_is_member(user=user, account_id=account_id)
            ):
                raise exceptions.PermissionDenied(NOT_A_MEMBER)
            request.ingest_account_id = account_id
            request.ingest_caller = f"account:{account_id}"
            return True
        if jwt_payload is not None:
            jwt_check(jwt_payload)  # a revoked token answers as revoked, not as "no CL-X-TOKEN"
        key = request.auth
        if isinstance(key, ApiKey):
            if key.account_id is None:
                raise exceptions.PermissionDenied(
                    "This API key is not bound to an account: it cannot send data."
                )
            if not key.has_scope("ingest"):
                raise exceptions.PermissionDenied('This API key lacks the "ingest" scope.')
            # The key acts for its user: once they leave the account, it no longer speaks for it.
            owner_is_member = getattr(key, "owner_is_member", None)
            if owner_is_member is None:
                owner_is_member = (
                    membership_get(user=key.user, account_id=key.account_id) is not None
                )
            if not owner_is_member:
                raise exceptions.PermissionDenied(
                    "This API key's owner is no longer a member of its account."
                )
            request.ingest_account_id = key.account_id
            request.ingest_caller = f"api_key:{key.pk}"
            return True
        if isinstance(key, AbstractAccessToken):
            return self._allow_oauth2_token(request, key)
        raise exceptions.NotAuthenticated(
            "Send the account's CL-X-TOKEN header, or an API key with the ingest scope."
        )

    @staticmethod
    def _allow_oauth2_token(request, token) -> bool:
        # An OAuth2 application bound to an account (endpoints.OAuthApplicationAccount) sends
        # data for it with its own tokens (client credentials act as the application's owner);
        # a token another user granted the application does not speak for the owner's account.
        if not token.allow_scopes(["ingest"]):
            raise exceptions.PermissionDenied('This OAuth2 token lacks the "ingest" scope.')
        application = token.application
        if application is None or request.user.pk != application.user_id:
            raise exceptions.PermissionDenied(
                "Only the application's own (client-credentials) tokens can send data."
            )
        account = oauth_application_ingest_account(application=application)
        if account is None:
            raise exceptions.PermissionDenied(
                "This OAuth2 application is not bound to an account that its owner administers."
            )
        request.ingest_account_id = account.pk
        request.ingest_caller = f"oauth2_app:{application.pk}"
        return True
