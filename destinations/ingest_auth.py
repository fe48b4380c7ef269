"""The ingest caller's credentials, checked in one cache round trip.

With `Authorization: Token <jwt>` next to `CL-X-TOKEN` (seed 003's curl), the usual path verifies
the token, asks the denylist (one round trip), loads the user (one query) and checks the
membership (one query). Here the authentication classes only verify what the request carries
(signature, expiry, token type; an API key's hash) and `ingest_account_for_app_token` reads the
denylist, the user's active flag, the CL-X-TOKEN and the membership with one `get_many`. Each
answer missing from the cache (cold, flushed, marked as changed) is asked of the database, and
with the cache unreachable the database answers everything (backend/common/fact_cache.py).
The view sets `credential_checks_deferred` for that; an API key is checked from its cached
snapshot by `ApiKeyAuthentication` itself (endpoints/api_key_cache.py).
"""

from rest_framework import exceptions
from rest_framework_simplejwt.tokens import Token

from accounts.app_tokens import account_id_given, app_token_key, parse_app_token
from accounts.member_cache import is_member_given, member_key
from accounts.models import Membership
from backend.common import fact_cache
from users import denylist, tokens
from users.active_cache import active_key, user_is_active_given
from users.authentication import UncheckedTokenUser

INVALID_APP_TOKEN = "Invalid CL-X-TOKEN."
NOT_A_MEMBER = "The authenticated user is not a member of the account of this CL-X-TOKEN."


def jwt_payload_of(request) -> dict | None:
    """The payload of the request's unchecked JWT, if it sent one."""
    if isinstance(request.user, UncheckedTokenUser) and isinstance(request.auth, Token):
        return request.auth.payload
    return None


def _refuse_unusable_jwt(payload: dict, found: dict | None) -> None:
    if denylist.is_revoked_given(payload, found):
        raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")
    if not user_is_active_given(tokens.user_id_of(payload) or "", found):
        raise exceptions.AuthenticationFailed("User is inactive", code="user_inactive")


def jwt_check(payload: dict) -> None:
    """A JWT sent without CL-X-TOKEN: revoked or inactive → 401, as anywhere else."""
    user_id = tokens.user_id_of(payload) or ""
    found = fact_cache.get_many([*denylist.check_keys(payload), active_key(user_id)])
    _refuse_unusable_jwt(payload, found)


def ingest_account_for_app_token(*, raw_token: str, jwt_payload: dict | None) -> int:
    """The account of the CL-X-TOKEN; with a JWT, its user must be usable and a member."""
    token = parse_app_token(raw_token)
    if token is None:
        raise exceptions.AuthenticationFailed(INVALID_APP_TOKEN)
    keys = [app_token_key(token)]
    user_id = ""
    if jwt_payload is not None:
        user_id = tokens.user_id_of(jwt_payload) or ""
        keys += [*denylist.check_keys(jwt_payload), active_key(user_id), member_key(token, user_id)]
    found = fact_cache.get_many(keys)
    if jwt_payload is not None:
        _refuse_unusable_jwt(jwt_payload, found)
    account_id = account_id_given(token, found)
    if account_id is None:
        raise exceptions.AuthenticationFailed(INVALID_APP_TOKEN)
    if jwt_payload is not None and not is_member_given(token, account_id, user_id, found):
        raise exceptions.PermissionDenied(NOT_A_MEMBER)
    return account_id


def user_is_member(*, user, account_id: int) -> bool:
    """For other credentials sent next to a CL-X-TOKEN (an API key, an OAuth2 token): a key
    bound to one account speaks for that account only."""
    bound_account_id = getattr(user, "credential_account_id", None)
    if bound_account_id is not None and bound_account_id != account_id:
        return False
    return Membership.objects.filter(user_id=user.pk, account_id=account_id).exists()
