"""Whether a user may use their tokens (exists and is active), from the shared cache.

Read by the ingest hot path in the same round trip as the token denylist (see
backend/common/fact_cache.py); a change of `is_active` or a deleted user marks the key on commit.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from backend.common import fact_cache

ACTIVE, INACTIVE = 1, 2  # never 0, which is fact_cache.CHANGED


def active_key(user_id: str) -> str:
    return f"users:active:{user_id}"


def user_is_active_given(user_id: str, found: dict | None) -> bool:
    """From `found` (a `get_many` that held `active_key(user_id)`), else from the database."""
    key = active_key(user_id)
    cached = fact_cache.found_value(found, key)
    if cached is not None:
        return cached == ACTIVE
    try:
        active = (
            get_user_model().objects.filter(pk=user_id).values_list("is_active", flat=True).first()
        )
    except (ValueError, TypeError, ValidationError):  # a claim that is not a user id at all
        return False
    answer = bool(active)
    fact_cache.store(key, ACTIVE if answer else INACTIVE, found)
    return answer


def user_active_changed(user_id, *, is_active: bool) -> None:
    """On commit: a deactivated (or deleted) user is refused at once by every process."""
    keys = [active_key(str(user_id))]
    if is_active:
        fact_cache.forget(keys)
    else:
        fact_cache.mark_changed(keys)
