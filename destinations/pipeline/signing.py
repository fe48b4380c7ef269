"""Standard Webhooks signatures with one or more secrets (secret rotation, SPEC section 11).

`webhook-signature` carries one `v1,<base64 HMAC-SHA256>` per secret, space-separated, as the
Standard Webhooks specification allows: during a rotation's grace period the header is
`v1,<new> v1,<old>` and a receiver holding either secret verifies the delivery. The signed
content is `{msg_id}.{timestamp}.{body}` with the exact body bytes that are sent.

A secret is `whsec_` + base64 of the key (the prefix is optional, padding too, as in the reference
library).
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret; ValueError if it is not base64 or empty."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("The signing secret is not valid base64.") from None
    if not key:
        raise ValueError("The signing secret is empty.")
    return key


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of the message with one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def sign(*, secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per secret, in the given order (newest first).

    A secret listed twice is signed once. ValueError if no secret is given or one is malformed.
    """
    if isinstance(secrets, str):  # a lone string would be signed character by character
        raise TypeError("sign() takes a list of secrets, not a string.")
    unique = list(dict.fromkeys(secrets))
    if not unique:
        raise ValueError("At least one signing secret is needed.")
    return " ".join(
        signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body) for secret in unique
    )
