"""The token denylist in the cache: one round-trip per authenticated request, no database query.

Keys (each expires with what it revokes):
- `jwt:deny:jti:<jti>`      an access token revoked by logout or by hand,
- `jwt:deny:fam:<family>`   every token of one login (logout, reuse detection, device revoked),
- `jwt:deny:user:<user id>` value = a cut-off in ms: every token of the user issued before it,
- `jwt:deny:loaded`         marker: the keys above were rebuilt from PostgreSQL since the cache
                            was last emptied.

PostgreSQL (`RevokedToken`) is the durable copy. If the marker is missing (Redis restarted,
flushed, or the marker's own reload period passed), one process rebuilds the keys from the
database under a cache lock; until then, and whenever the cache is unreachable, the check asks
the database, so a revoked token never comes back. Revoked refresh jtis are not cached: only the
refresh endpoint and verify look at them, and they read the database.
"""

import logging
import math
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from users import tokens
from users.models import RevokedToken

logger = logging.getLogger(__name__)

LOADED_KEY = "jwt:deny:loaded"
REBUILD_LOCK_KEY = "jwt:deny:rebuild-lock"
REBUILD_LOCK_SECONDS = 120
REBUILD_BATCH = 2000

# Kinds the per-request check needs; REFRESH rows stay in the database only.
CACHED_KINDS = (RevokedToken.Kind.ACCESS, RevokedToken.Kind.FAMILY, RevokedToken.Kind.USER)


class DenylistUnavailable(Exception):
    """The cache could not record a revocation (the caller rolls the revocation back)."""


def jti_key(jti: str) -> str:
    return f"jwt:deny:jti:{jti}"


def family_key(family: str) -> str:
    return f"jwt:deny:fam:{family}"


def user_key(user_id: str) -> str:
    return f"jwt:deny:user:{user_id}"


def entry_key(kind: str, identifier: str) -> str:
    if kind == RevokedToken.Kind.FAMILY:
        return family_key(identifier)
    if kind == RevokedToken.Kind.USER:
        return user_key(identifier)
    return jti_key(identifier)


def entry_value(row: RevokedToken) -> int:
    # A user-wide row stores its cut-off; other entries only need to exist.
    if row.kind == RevokedToken.Kind.USER:
        return int(row.created_at.timestamp() * 1000)
    return 1


def _seconds_left(expires_at) -> int:
    return math.ceil((expires_at - timezone.now()).total_seconds())


def remember(row: RevokedToken) -> None:
    """Writes a revocation into the cache now (raises DenylistUnavailable) and again on commit.

    The first write happens inside the caller's transaction so a cache failure rolls the
    revocation back instead of leaving it in the database only. The second, after commit, covers
    a cache flushed while the transaction was open (a rebuild then could not see the row yet).
    """
    if row.kind not in CACHED_KINDS:
        return
    timeout = _seconds_left(row.expires_at)
    if timeout <= 0:
        return
    key, value = entry_key(row.kind, row.identifier), entry_value(row)
    try:
        cache.set(key, value, timeout)
    except Exception as exc:
        logger.warning("Could not write a token revocation to the cache: %s", type(exc).__name__)
        raise DenylistUnavailable from exc

    def _write_again():
        try:
            cache.set(key, value, _seconds_left(row.expires_at))
        except Exception as exc:  # the marker goes too, so the next check rebuilds
            logger.warning("Could not confirm a token revocation in the cache: %s", exc)
            _forget_marker()

    transaction.on_commit(_write_again)


def _forget_marker() -> None:
    try:
        cache.delete(LOADED_KEY)
    except Exception:
        logger.warning("Cache unreachable: could not drop the denylist marker.")


def check_keys(payload: dict) -> list[str]:
    """The cache keys that decide whether the token with this payload is revoked."""
    family = tokens.family_of(payload)
    keys = [
        LOADED_KEY,
        jti_key(str(payload.get("jti", ""))),
        user_key(tokens.user_id_of(payload) or ""),
    ]
    if family:
        keys.append(family_key(family))
    return keys


def is_revoked(payload: dict) -> bool:
    """True if the token with this (verified) payload is revoked. One cache round-trip."""
    try:
        found = cache.get_many(check_keys(payload))
    except Exception as exc:
        logger.warning("Cache unreachable for the token denylist (%s): asking the database.", exc)
        found = None
    return is_revoked_given(payload, found)


def is_revoked_given(payload: dict, found: dict | None) -> bool:
    """The answer from `found` (the result of a `get_many` that held `check_keys(payload)`), or
    from the database when the cache was unreachable (None) or emptied since the last rebuild."""
    if found is None:
        return is_revoked_in_db(payload)
    if LOADED_KEY not in found:
        rebuild()
        return is_revoked_in_db(payload)
    jti = str(payload.get("jti", ""))
    if jti_key(jti) in found:
        return True
    family = tokens.family_of(payload)
    if family and family_key(family) in found:
        return True
    cutoff = found.get(user_key(tokens.user_id_of(payload) or ""))
    return cutoff is not None and tokens.issued_ms(payload) < int(cutoff)


def is_revoked_in_db(payload: dict) -> bool:
    """The same answer from PostgreSQL, including revoked refresh jtis (one query)."""
    jti = str(payload.get("jti", ""))
    user_id = tokens.user_id_of(payload)
    family = tokens.family_of(payload)
    condition = Q(kind__in=[RevokedToken.Kind.ACCESS, RevokedToken.Kind.REFRESH], identifier=jti)
    if family:
        condition |= Q(kind=RevokedToken.Kind.FAMILY, identifier=family)
    if user_id:
        issued = datetime.fromtimestamp(tokens.issued_ms(payload) / 1000, tz=UTC)
        # Same rule as the cache: revoked when issued_ms < cut-off truncated to the millisecond.
        condition |= Q(
            kind=RevokedToken.Kind.USER,
            identifier=user_id,
            created_at__gte=issued + timedelta(milliseconds=1),
        )
    return RevokedToken.objects.filter(condition).exists()


def rebuild() -> bool:
    """Reloads the cache denylist from the database once (under a lock); True if this call did."""
    try:
        if not cache.add(REBUILD_LOCK_KEY, 1, REBUILD_LOCK_SECONDS):
            return False
    except Exception:
        return False
    try:
        now = timezone.now()
        rows = (
            RevokedToken.objects.filter(kind__in=CACHED_KINDS, expires_at__gt=now)
            .order_by("expires_at")
            .only("kind", "identifier", "created_at", "expires_at")
        )
        batch: dict[str, int] = {}
        batch_expiry = now
        count = 0
        for row in rows.iterator(chunk_size=REBUILD_BATCH):
            batch[entry_key(row.kind, row.identifier)] = entry_value(row)
            batch_expiry = row.expires_at  # rows are ordered: the last one lives longest
            count += 1
            if len(batch) >= REBUILD_BATCH:
                cache.set_many(batch, max(1, _seconds_left(batch_expiry)))
                batch = {}
        if batch:
            cache.set_many(batch, max(1, _seconds_left(batch_expiry)))
        cache.set(LOADED_KEY, 1, getattr(settings, "JWT_DENYLIST_RELOAD_SECONDS", 3600))
        logger.info("Token denylist rebuilt from the database (%d entries).", count)
        return True
    except Exception as exc:
        logger.warning("Token denylist rebuild failed: %s", exc)
        return False
    finally:
        try:
            cache.delete(REBUILD_LOCK_KEY)
        except Exception:
            logger.debug("Could not release the denylist rebuild lock; it expires by itself.")
