"""Brute-force protection for logins: failed attempts counted per account and per client IP.

Counters live in the cache (shared by every web process; a per-process fallback while Redis is
unreachable, see backend/common/cache.py). A counter starts at the first failure
and lasts LOGIN_LOCKOUT_SECONDS; reaching its limit sets a lock key holding the unlock time, and
while a lock exists every login for that account or IP is refused with 429, right password or not.
"""

import hashlib
import ipaddress
import math
import time

from django.conf import settings

from backend.common.cache import with_fallback
from users.exceptions import LoginLockedOut


def client_ip(request) -> str:
    """REMOTE_ADDR, or the X-Forwarded-For entry added by the first of TRUSTED_PROXY_COUNT proxies."""
    meta = getattr(request, "META", {}) or {}
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [
            p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()
        ]
        if forwarded:
            candidate = forwarded[-min(proxies, len(forwarded))]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return meta.get("REMOTE_ADDR") or "unknown"


def valid_ip(value: str | None) -> str | None:
    """The address if it is one (for a GenericIPAddressField), else None ("unknown", garbage)."""
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def subject_for(identifier: str, user=None) -> str:
    """The account being guessed: its id when it exists, else the typed identifier (hashed)."""
    if user is not None:
        return f"user:{user.pk}"
    digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]
    return f"id:{digest}"


def _fail_key(scope: str, value: str) -> str:
    return f"login:fail:{scope}:{value}"


def _lock_key(scope: str, value: str) -> str:
    return f"login:lock:{scope}:{value}"


def ensure_not_locked(*, subject: str, ip: str) -> None:
    """Raises LoginLockedOut (429 with Retry-After) while the account or the IP is locked."""
    keys = [_lock_key("acct", subject), _lock_key("ip", ip)]
    locks = with_fallback(lambda cache: cache.get_many(keys))
    if not locks:
        return
    wait = max(float(until) for until in locks.values()) - time.time()
    if wait > 0:
        raise LoginLockedOut(wait=math.ceil(wait))


def _count_failure(cache, scope: str, value: str, limit: int) -> None:
    seconds = settings.LOGIN_LOCKOUT_SECONDS
    key = _fail_key(scope, value)
    cache.add(key, 0, seconds)  # starts the window at the first failure
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, seconds)
        count = 1
    if count >= limit:
        cache.set(_lock_key(scope, value), time.time() + seconds, seconds)
        # After the lock expires the count starts again from zero.
        cache.delete(key)


def record_failure(*, subject: str, ip: str) -> None:
    def count(cache):
        _count_failure(cache, "acct", subject, settings.LOGIN_LOCKOUT_ATTEMPTS)
        _count_failure(cache, "ip", ip, settings.LOGIN_LOCKOUT_IP_ATTEMPTS)

    with_fallback(count)


def reset(*, subject: str) -> None:
    """A successful login clears the account's counter (not the IP's: one known password must
    not buy an attacker fresh guesses against other accounts)."""
    with_fallback(lambda cache: cache.delete(_fail_key("acct", subject)))
