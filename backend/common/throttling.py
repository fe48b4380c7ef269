"""DRF throttles that survive a cache outage: every throttle of every app derives from these.

DRF's throttles keep their history in the shared cache and raise when it is unreachable, which
turned a Redis outage into a 500 on every throttled path. These fall back to a per-process
in-memory cache instead: the limits still hold per process (looser across several processes)
until Redis is back, and no request fails because of them.
"""

import logging
from typing import TYPE_CHECKING

from rest_framework import throttling

from backend.common.cache import CONNECTION_ERRORS, local_fallback_cache
from backend.common.resilience import cache_breaker

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class CacheFallbackThrottleMixin(throttling.SimpleRateThrottle):
    """Uses the shared cache; on a cache error (or with its breaker open) the local fallback.

    Listed first in the bases of each throttle below; derives from DRF's SimpleRateThrottle
    only so the cache it swaps and the super() call it makes are typed (the MRO is unchanged).
    """

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        if cache_breaker.allow():
            try:
                return super().allow_request(request, view)
            except CONNECTION_ERRORS as exc:
                logger.warning(
                    "Throttle cache unreachable (%s): using the local fallback.", type(exc).__name__
                )
        self.cache = local_fallback_cache
        return super().allow_request(request, view)


class SimpleRateThrottle(CacheFallbackThrottleMixin, throttling.SimpleRateThrottle):
    pass


class AnonRateThrottle(CacheFallbackThrottleMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(CacheFallbackThrottleMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(CacheFallbackThrottleMixin, throttling.ScopedRateThrottle):
    pass
