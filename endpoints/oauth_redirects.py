"""Plain-http OAuth2 redirect URIs: only loopback ones outside DEBUG (RFC 8252 section 7.3).

DOT checks schemes only, so allowing "http" for native and CLI apps would allow any http host.
This validator, added to the application model's `redirect_uris` field, runs wherever an
application is validated (the API, DOT's registration pages, the admin) and keeps http to
`127.0.0.1`, `[::1]` (and `localhost` when DOT treats it as loopback). DOT itself lets the port
of a loopback redirect differ at authorization time.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from oauth2_provider.settings import oauth2_settings

LOOPBACK_HOSTS = {"127.0.0.1", "::1"}


def loopback_hosts() -> set[str]:
    hosts = set(LOOPBACK_HOSTS)
    if oauth2_settings.ALLOW_LOCALHOST_LOOPBACK:
        hosts.add("localhost")
    return hosts


def validate_http_redirect_uris_are_loopback(value) -> None:
    if settings.DEBUG:  # local development may use any http host, as before
        return
    allowed = loopback_hosts()
    for uri in str(value or "").split():
        try:
            parts = urlsplit(uri)
            hostname = parts.hostname
        except ValueError:
            continue  # malformed: DOT's own validator reports it
        if parts.scheme.lower() == "http" and hostname not in allowed:
            raise ValidationError(
                "An http redirect URI must be a loopback address (http://127.0.0.1:<port>/ or "
                "http://[::1]:<port>/); use https otherwise: %(uri)s",
                code="http_not_loopback",
                params={"uri": uri},
            )


def install() -> None:
    """Adds the validator to the application model's `redirect_uris` field (once)."""
    from oauth2_provider.models import get_application_model

    field = get_application_model()._meta.get_field("redirect_uris")
    if validate_http_redirect_uris_are_loopback not in field.validators:
        field.validators.append(validate_http_redirect_uris_are_loopback)
