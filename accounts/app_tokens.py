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

from django.conf import settings
from django.core.cache import cache

from accounts.models import Account

logger = logging.getLogger(__name__)

TOMBSTONE = 0  # account ids start at 1


def _key(token: uuid.UUID) -> str:
    digest = hashlib.sha256(token.bytes).hexdigest()[:40]
    return f"accounts:app-token:{digest}"


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
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 - the cache is an optimisation: ask the database
        logger.warning("Cache unavailable for an app token lookup.")
        cached = None
    if cached is not None:
        return cached or None  # the tombstone is 0
    account_id = Account.objects.filter(app_secret_token=token).values_list("pk", flat=True).first()
    if account_id is not None:
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
