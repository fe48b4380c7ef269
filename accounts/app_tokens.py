"""Resolving an account from its app secret token (`CL-X-TOKEN`) on the ingest hot path.

A hit in the shared cache answers without a database query. A rotated (or deleted) account's old
token is overwritten in the cache with a tombstone on commit: every process on every machine
refuses it at once, and a lookup racing the rotation cannot put the old mapping back (the
tombstone is set unconditionally, misses are stored only with `add`). The database stays the
truth: a lost cache entry costs one query, never a wrong answer.
"""

import hashlib
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache

from accounts.models import Account

logger = logging.getLogger(__name__)

TOMBSTONE = 0  # account ids start at 1


def token_digest(token: uuid.UUID) -> str:
    return hashlib.sha256(token.bytes).hexdigest()[:40]


def _key(token: uuid.UUID) -> str:
    return f"accounts:app-token:{token_digest(token)}"


def app_token_key(token: uuid.UUID) -> str:
    """The cache key of `token` (for callers that read it in a `get_many` of their own)."""
    return _key(token)


def parse_app_token(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw).strip())
    except (ValueError, AttributeError, TypeError):
        return None


def account_id_for_app_token(raw: str | None) -> int | None:
    """The id of the account whose current secret is `raw`, or None."""
    token = parse_app_token(raw)
    if token is None:
        return None
    key = _key(token)
    try:
        found: dict[str, Any] | None = {key: cache.get(key)}
    except Exception:  # noqa: BLE001 - the cache is an optimisation: ask the database
        logger.warning("Cache unavailable for an app token lookup.")
        found = None
    return account_id_given(token, found)


def account_id_given(token: uuid.UUID, found: dict[str, Any] | None) -> int | None:
    """From `found` (a `get_many` that held `app_token_key(token)`; None = cache unreachable),
    else from the database (the answer is then cached with `add`)."""
    key = _key(token)
    cached = found.get(key) if found is not None else None
    if cached is not None:
        return cached or None  # the tombstone is 0
    account_id = Account.objects.filter(app_secret_token=token).values_list("pk", flat=True).first()
    if account_id is not None and found is not None:
        try:
            cache.add(key, account_id, timeout=settings.APP_TOKEN_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("Cache unavailable: app token not cached.")
    return account_id


def app_token_forget(token: uuid.UUID) -> None:
    """Marks `token` as no longer valid in the shared cache (after a rotation or a delete)."""
    try:
        # Longer than any positive entry can live, so no racing lookup outlives it.
        cache.set(_key(token), TOMBSTONE, timeout=settings.APP_TOKEN_CACHE_SECONDS * 2 + 60)
    except Exception:  # noqa: BLE001 - entries expire on their own; log loudly
        logger.error(
            "Could not drop a rotated app token from the cache: it expires in %ss.",
            settings.APP_TOKEN_CACHE_SECONDS,
        )
