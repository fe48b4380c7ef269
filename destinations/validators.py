"""Model-level validators for destinations (run by full_clean: the API, services and admin)."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError

from destinations.pipeline.ssrf import UnsafeDestinationError, validate_destination_url

# RFC 9110 token characters.
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$")
MAX_HEADER_VALUE_LENGTH = 4096
# Hop-by-hop and framing headers belong to the connection, not the destination; webhook-* are
# the signature headers that the delivery sets itself.
FORBIDDEN_HEADERS = {
    "connection",
    "content-length",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


def validate_safe_url(value: str) -> None:
    try:
        validate_destination_url(value)
    except UnsafeDestinationError as exc:
        raise ValidationError(str(exc), code="unsafe_url") from exc


def validate_headers(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Headers must be a JSON object of strings.", code="invalid")
    limit = settings.DESTINATION_MAX_HEADERS
    if len(value) > limit:
        raise ValidationError(f"At most {limit} headers are allowed.", code="too_many")
    seen = set()
    for name, header_value in value.items():
        if not isinstance(name, str) or not HEADER_NAME.match(name):
            raise ValidationError(
                f"{str(name)[:64]!r} is not a valid HTTP header name.", code="invalid_name"
            )
        lowered = name.lower()
        if lowered in seen:
            raise ValidationError(f"The header {name!r} is given twice.", code="duplicate")
        seen.add(lowered)
        if lowered in FORBIDDEN_HEADERS or lowered.startswith("webhook-"):
            raise ValidationError(f"The header {name!r} cannot be set.", code="forbidden")
        if not isinstance(header_value, str):
            raise ValidationError(f"The value of {name!r} must be a string.", code="invalid")
        if len(header_value) > MAX_HEADER_VALUE_LENGTH:
            raise ValidationError(f"The value of {name!r} is too long.", code="too_long")
        if any(ch in header_value for ch in "\r\n\0"):
            raise ValidationError(
                f"The value of {name!r} contains a line break or NUL.", code="invalid"
            )
