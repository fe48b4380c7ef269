"""Whether a user is a member of the account of a CL-X-TOKEN, from the shared cache.

The key is named after the token (not the account), so the ingest hot path reads it in the same
round trip as the token itself (see backend/common/fact_cache.py). A membership created, changed
or deleted marks the key of the account's current token on commit; a rotated or deleted token is
refused by its own tombstone (accounts/app_tokens.py), whatever this key says.
"""

import uuid

from accounts.app_tokens import token_digest
from accounts.models import Account, Membership
from backend.common import fact_cache

MEMBER, NOT_MEMBER = 1, 2  # never 0, which is fact_cache.CHANGED


def member_key(token: uuid.UUID, user_id: str) -> str:
    return f"accounts:member:{token_digest(token)}:{user_id}"


def is_member_given(token: uuid.UUID, account_id: int, user_id: str, found: dict | None) -> bool:
    """From `found` (a `get_many` that held `member_key(token, user_id)`), else the database."""
    key = member_key(token, user_id)
    cached = fact_cache.found_value(found, key)
    if cached is not None:
        return cached == MEMBER
    answer = Membership.objects.filter(account_id=account_id, user_id=user_id).exists()
    fact_cache.store(key, MEMBER if answer else NOT_MEMBER, found)
    return answer


def membership_changed(*, account_id: int, user_id, removed: bool) -> None:
    """On commit: a removed member is refused at once by every process; a new one (or a role
    change, which ingest does not look at) is asked of the database next time."""
    token = Account.objects.filter(pk=account_id).values_list("app_secret_token", flat=True).first()
    if token is None:
        return  # the account is going: its token's own tombstone refuses everything
    keys = [member_key(token, str(user_id))]
    if removed:
        fact_cache.mark_changed(keys)
    else:
        fact_cache.forget(keys)
