"""Ingest throttle: per caller (the account for CL-X-TOKEN, the key for API keys)."""

from rest_framework.settings import api_settings

from backend.common.throttling import SimpleRateThrottle

DISABLED_RATES = {"", "none", "off", "0"}


class IngestRateThrottle(SimpleRateThrottle):
    """Rate "ingest" (INGEST_THROTTLE_RATE, default 5/second); `none` turns it off."""

    scope = "ingest"

    def get_rate(self):
        # Read at request time (not class creation), so settings overrides apply.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if rate is None or str(rate).strip().lower() in DISABLED_RATES:
            return None
        return rate

    def get_cache_key(self, request, view) -> str | None:
        caller = getattr(request, "ingest_caller", None)
        if caller is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": caller}
