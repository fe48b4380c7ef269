"""The WSGI application: Django's handler, with a shorter middleware chain on the ingest paths.

Ingest is a token-authenticated POST of a JSON body, called by machines at high rates. Some
middleware does nothing for it and still costs time on every call: sessions, CSRF (DRF views are
exempt; no session authentication there), `request.user` from the session, messages, allauth's
login flow, WhiteNoise's static file lookup. `SLIM_MIDDLEWARE_PATHS` go through
`settings.MIDDLEWARE` without `SLIM_SKIPPED_MIDDLEWARE`; everything else keeps the full chain.
What the SPEC asks of every response stays on both chains: request id, JSON errors, body caps,
security headers (CSP, nosniff, referrer policy, HSTS, X-Frame-Options), CORS and metrics.
Middleware added to `settings.MIDDLEWARE` later is on both chains unless listed as skipped.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


def slim_middleware() -> list[str]:
    skipped = set(settings.SLIM_SKIPPED_MIDDLEWARE)
    return [name for name in settings.MIDDLEWARE if name not in skipped]


class SlimChainWSGIHandler(WSGIHandler):
    """A WSGIHandler whose chain is `slim_middleware()` (Django reads the chain from settings
    once, at start-up: it is swapped in for that moment only)."""

    def load_middleware(self, is_async: bool = False) -> None:
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = slim_middleware()
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class PathRoutedWSGIHandler(WSGIHandler):
    """The full chain, except for the exact paths in SLIM_MIDDLEWARE_PATHS."""

    def __init__(self) -> None:
        super().__init__()
        self.slim_paths = frozenset(settings.SLIM_MIDDLEWARE_PATHS)
        self.slim = SlimChainWSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") in self.slim_paths:
            return self.slim(environ, start_response)
        return super().__call__(environ, start_response)
