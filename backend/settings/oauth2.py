"""OAuth2 provider (django-oauth-toolkit) at /api/v1/oauth2/: its app, the bearer class ahead of
JWT, scopes, token lifetimes and the RFC 9700 switches, schema flows, expired-token cleanup.

Imported by base.py after the framework settings it extends (before allauth.py).
"""

from backend.env import env
from backend.settings.base import (
    HTML_PATH_PREFIXES,
    INSTALLED_APPS,
    REST_FRAMEWORK,
    SPECTACULAR_SETTINGS,
)
from backend.settings.celery import CELERY_BEAT_SCHEDULE

# OAuth2 provider (django-oauth-toolkit) at /api/v1/oauth2/ and allauth's HTML account pages at
# /accounts/ (seed 001). Both use the same User model and the same login backends.
INSTALLED_APPS += ["oauth2_provider"]
# The OAuth2 class comes first but only claims opaque (dot-free) bearer tokens that it finds, so
# JWTs and API keys are never looked up by it, and any bearer it does not know falls through to
# the JWT class (which answers the usual 401). The JWT class refuses every bearer it cannot decode,
# so behind it an OAuth2 token would never be reached. Session auth (browsable API) comes last.
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "endpoints.authentication.OAuth2Authentication",
    *REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],
    "rest_framework.authentication.SessionAuthentication",
]
OAUTH2_SCOPES = {
    "read": "Read your data (safe methods)",
    "write": "Change your data (unsafe methods)",
    "ingest": "Send data to the ingest endpoint of the application's account",
}
OAUTH2_PROVIDER = {
    "SCOPES": OAUTH2_SCOPES,
    # Like a new API key: read and write unless the client asks for a narrower or other set.
    "DEFAULT_SCOPES": ["read", "write"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH2_ACCESS_TOKEN_SECONDS", default=3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("OAUTH2_REFRESH_TOKEN_SECONDS", default=7 * 86400),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": env.int("OAUTH2_AUTHORIZATION_CODE_SECONDS", default=60),
    "ROTATE_REFRESH_TOKEN": True,
    # A replayed refresh token revokes its whole family (as for our JWTs).
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Native and CLI apps redirect to http://127.0.0.1:<any port>/ (RFC 8252 section 7.3): http
    # is allowed in every environment, and outside DEBUG only for loopback hosts
    # (endpoints/oauth_redirects.py).
    "ALLOWED_REDIRECT_URI_SCHEMES": env.list(
        "OAUTH2_REDIRECT_URI_SCHEMES", default=["https", "http"]
    ),
    "ALLOW_LOCALHOST_LOOPBACK": True,
    # RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant, S256 PKCE only, tokens
    # only in the Authorization header, `iss` in authorization responses, tokens hashed at rest.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}
# Expired tokens and grants are refused on use anyway; this keeps the tables from only growing.
CELERY_BEAT_SCHEDULE["endpoints-clear-expired-oauth2-tokens"] = {
    "task": "endpoints.clear_expired_oauth2_tokens",
    "schedule": 3600.0,
}
SPECTACULAR_SETTINGS.update(
    {
        "OAUTH2_FLOWS": ["authorizationCode", "clientCredentials"],
        "OAUTH2_AUTHORIZATION_URL": "/api/v1/oauth2/authorize/",
        "OAUTH2_TOKEN_URL": "/api/v1/oauth2/token/",
        "OAUTH2_REFRESH_URL": "/api/v1/oauth2/token/",
        "OAUTH2_SCOPES": OAUTH2_SCOPES,
    }
)
HTML_PATH_PREFIXES = (
    *HTML_PATH_PREFIXES,
    "/api/v1/oauth2/applications/",
    "/api/v1/oauth2/authorized_tokens/",
)
# DOT warns about "http" as a scheme; our validator keeps it to loopback hosts (its own hint).
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W008"]
