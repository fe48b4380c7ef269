"""Platform hardening: body caps, Content Security Policy, HSTS, dependency outages, Sentry.

Imported last by base.py: it wraps middleware and classes that base and the integrations set.
"""

from backend.env import env
from backend.settings.base import (
    API_VERSION,
    CACHES,
    DEBUG,
    ENVIRONMENT,
    INSTALLED_APPS,
    MIDDLEWARE,
    REST_FRAMEWORK,
    SENTRY_DSN,
    SPECTACULAR_SETTINGS,
)

# Every JSON or form body is capped (413 before parsing); ingest keeps INGEST_MAX_BODY_BYTES and
# multipart uploads their own checks (backend/common/limits.py).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
# Paths with their own cap (name of the setting holding it). Stripe's signed events can be
# larger than a form and must not be refused, or the credits they grant are lost.
LARGE_BODY_PATHS = {
    "/api/v1/incoming-data/": "INGEST_MAX_BODY_BYTES",
    "/server/incoming_data/": "INGEST_MAX_BODY_BYTES",
    "/api/v1/payments/stripe/webhook/": "INGEST_MAX_BODY_BYTES",
}
MIDDLEWARE.insert(
    MIDDLEWARE.index("backend.common.middleware.JsonErrorMiddleware") + 1,
    "backend.common.limits.BodySizeLimitMiddleware",
)

# Ingest (machine-to-machine, token-authenticated POSTs) skips the middleware that does nothing
# for it (backend/common/wsgi.py); every header, cap and count the SPEC asks for stays.
SLIM_MIDDLEWARE_PATHS = ("/api/v1/incoming-data/", "/server/incoming_data/")
SLIM_SKIPPED_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# Content Security Policy (django-csp, backend/common/security.py): JSON loads nothing, HTML
# pages load this site only, the API docs also what Swagger UI and ReDoc need.
INSTALLED_APPS += ["csp"]
# Outside JsonErrorMiddleware, so the JSON error bodies it makes carry the policy too.
MIDDLEWARE.insert(
    MIDDLEWARE.index("backend.common.middleware.JsonErrorMiddleware"),
    "backend.common.security.PathAwareCSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
    }
}
CSP_HTML_DIRECTIVES = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    # No form-action: browsers apply it to the redirect after a POST, which would block the
    # OAuth2 authorize form from sending the user back to the client's redirect URI.
}
CSP_DOCS_PATH_PREFIXES = ("/api/docs/", "/api/redoc/")
CSP_DOCS_DIRECTIVES = {
    **CSP_HTML_DIRECTIVES,
    "style-src": ["'self'", "'unsafe-inline'"],
    "font-src": ["'self'", "data:"],
    "worker-src": ["'self'", "blob:"],
    "connect-src": ["'self'"],
}
# No badge from validator.swagger.io; no web fonts in ReDoc (see backend/common/docs.py).
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": True, "validatorUrl": None}
SPECTACULAR_SETTINGS["REDOC_UI_SETTINGS"] = {
    "theme": {
        "typography": {
            "fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif",
            "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif"},
            "code": {"fontFamily": "ui-monospace, SFMono-Regular, Menlo, monospace"},
        }
    }
}
# HSTS is sent on HTTPS responses only (SecurityMiddleware): on by default outside DEBUG.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# Outages: a lost database is a 503 with Retry-After; after DEPENDENCY_BREAKER_FAILURES
# connection errors in a row, Redis (cache) and the broker are skipped for
# DEPENDENCY_BREAKER_SECONDS instead of each call waiting for its connect timeout.
DEPENDENCY_RETRY_AFTER_SECONDS = env.int("DEPENDENCY_RETRY_AFTER_SECONDS", default=5)
DEPENDENCY_BREAKER_FAILURES = env.int("DEPENDENCY_BREAKER_FAILURES", default=3)
DEPENDENCY_BREAKER_SECONDS = env.float("DEPENDENCY_BREAKER_SECONDS", default=5.0)
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    CACHES["default"]["BACKEND"] = "backend.common.cache.BreakerRedisCache"
# DRF's throttles raise when the cache is down; ours fall back to a per-process cache.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    name.replace("rest_framework.throttling.", "backend.common.throttling.")
    for name in REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
]

# Sentry: the DSN is all it takes (sentry-sdk with the Django and Celery integrations).
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from backend.common.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=ENVIRONMENT,
        release=API_VERSION,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
