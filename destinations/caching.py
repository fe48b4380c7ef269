"""The logs-list cache, invalidated without a write per event.

A cached page is keyed by the account's freshness stamp: the newest `updated_at` of its logs (one
index-only read at list time: every insert and update of a log sets it) and a version number that
only deletes bump (a deleted destination's logs, retention), since a delete leaves no newer row.
Any change makes the old pages unreachable at once (they expire on their own): no key scans, no
deletes, and the ingest and delivery paths never touch the cache.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache

from destinations.models import DeliveryLog

logger = logging.getLogger(__name__)


def _version_key(account_id: int) -> str:
    return f"destinations:logs-version:{account_id}"


def _initial_version() -> int:
    # Time-based, so a version lost to eviction or a cache restart never reuses an old number.
    return time.time_ns() // 1000


def logs_version(*, account_id: int) -> int:
    key = _version_key(account_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, _initial_version(), timeout=None)
        version = cache.get(key)
    return int(version or 0)


def logs_version_bump(*, account_ids) -> None:
    """Invalidates the cached logs lists of these accounts (after deletes). Cache trouble never
    fails a write."""
    for account_id in set(account_ids):
        key = _version_key(account_id)
        try:
            try:
                cache.incr(key)
            except ValueError:  # no version yet (or evicted): start a new, higher one
                cache.set(key, _initial_version(), timeout=None)
        except Exception:  # noqa: BLE001 - the cache is an optimisation; the TTL bounds staleness
            logger.warning("Could not bump the logs cache version of account %s", account_id)


def logs_freshness(*, account_id: int) -> str:
    newest = (
        DeliveryLog.objects.filter(account_id=account_id)
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )
    return newest.isoformat() if newest else "-"


def logs_page_cache_key(*, account_id: int, full_path: str, host: str) -> str | None:
    """The page's key, or None while the cache is unreachable (the page is then not cached)."""
    try:
        version = logs_version(account_id=account_id)
    except Exception:  # noqa: BLE001 - the cache is an optimisation: serve from the database
        logger.warning("Logs cache unreachable: serving account %s from the database", account_id)
        return None
    stamp = logs_freshness(account_id=account_id)
    digest = hashlib.sha256(f"{host}|{full_path}|{stamp}".encode()).hexdigest()[:32]
    return f"destinations:logs:{account_id}:{version}:{digest}"


def logs_page_get(key: str | None):
    if key is None:
        return None
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - a miss: the page comes from the database
        logger.warning("Logs cache unreachable: could not read a cached page")
        return None


def logs_page_set(key: str | None, data) -> None:
    if key is None:
        return
    try:
        cache.set(key, data, timeout=settings.LOGS_CACHE_SECONDS)
    except Exception:  # noqa: BLE001 - not cached this time
        logger.warning("Logs cache unreachable: could not store a page")
