"""Throttles of this app: per API key, and the strict anonymous limit of the seed 002 task routes."""

from backend.common.throttling import AnonRateThrottle, SimpleRateThrottle
from endpoints.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key limit (cache-based): the key's own `rate_limit`, else the "api_key" default rate."""

    scope = "api_key"

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        if request.auth.rate_limit:
            self.rate = request.auth.rate_limit
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class AnonTasksRateThrottle(AnonRateThrottle):
    """Anonymous callers of `POST /tasks/` (seed 002) get the strict "anon_tasks" rate."""

    scope = "anon_tasks"
