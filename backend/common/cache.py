"""The Redis cache backend behind the cache breaker (see backend/common/resilience.py).

With Redis down, each cache call would wait for the connect timeout; after a few failures in a
row this backend refuses calls at once (DependencyUnavailable, a redis ConnectionError) until
the breaker lets one through again. Callers handle the error as they handle an unreachable Redis.
"""

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache  # type: ignore[import-untyped]  # django-redis ships no types
from django_redis.exceptions import ConnectionInterrupted  # type: ignore[import-untyped]  # as above
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend.common.resilience import DependencyUnavailable, cache_breaker

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# What an unreachable or stalled Redis raises through django-redis.
CONNECTION_ERRORS = (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError, OSError)

GUARDED_METHODS = (
    "set",
    "add",
    "get",
    "delete",
    "delete_many",
    "delete_pattern",
    "clear",
    "get_many",
    "set_many",
    "incr",
    "decr",
    "has_key",
    "ttl",
    "expire",
    "touch",
    "persist",
    "incr_version",
)


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        if not cache_breaker.allow():
            raise DependencyUnavailable("Cache breaker open: Redis not tried.")
        try:
            result = method(*args, **kwargs)
        except CONNECTION_ERRORS:
            cache_breaker.record_failure()
            raise
        cache_breaker.record_success()
        return result

    return call


class BreakerRedisCache(RedisCache):  # type: ignore[misc]  # RedisCache is untyped (Any)
    """django-redis's RedisCache whose calls go through the per-process cache breaker."""


for _name in GUARDED_METHODS:
    setattr(BreakerRedisCache, _name, _guarded(getattr(RedisCache, _name)))


# Per-process stand-in for state that must not simply vanish while Redis is down (throttle
# histories, login failure counts): limits keep holding per process until Redis is back.
local_fallback_cache = LocMemCache("local-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def with_fallback(operation: Callable[[BaseCache], R]) -> R:
    """`operation(cache)` on the shared cache, or on the local fallback if it is unreachable."""
    if cache_breaker.allow():
        try:
            return operation(cache)
        except CONNECTION_ERRORS as exc:
            logger.warning("Cache unreachable (%s): using the local fallback.", type(exc).__name__)
    return operation(local_fallback_cache)
