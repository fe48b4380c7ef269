"""Signatures with several secrets, checked with the `standardwebhooks` reference library."""

import base64
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from destinations.models import generate_signing_secret
from destinations.pipeline.signing import secret_key, sign, signature
from tests.destinations.sink import verify_signature

BODY = '{"z": 1, "a": 1e400, "s": "\\ud800", "é": "☕"}'.encode()


def _headers(header: str, msg_id: str, timestamp: int) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": header}


def _verifies(secret: str, header: str, msg_id: str, timestamp: int, body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, _headers(header, msg_id, timestamp), json_parse=False)
    except WebhookVerificationError:
        return False
    return True


def test_each_secret_alone_verifies_the_header_and_a_wrong_one_does_not():
    new, old = generate_signing_secret(), generate_signing_secret()
    msg_id, timestamp = "msg_2ZyB", int(time.time())
    header = sign(secrets=[new, old], msg_id=msg_id, timestamp=timestamp, body=BODY)

    parts = header.split(" ")
    assert len(parts) == 2
    assert all(part.startswith("v1,") for part in parts)
    assert _verifies(new, header, msg_id, timestamp, BODY)
    assert _verifies(old, header, msg_id, timestamp, BODY)
    assert not _verifies(generate_signing_secret(), header, msg_id, timestamp, BODY)
    # The signature covers the id, the timestamp and every byte of the body.
    assert not _verifies(new, header, "msg_other", timestamp, BODY)
    assert not _verifies(new, header, msg_id, timestamp + 1, BODY)
    assert not _verifies(old, header, msg_id, timestamp, BODY + b" ")


def test_one_secret_gives_one_signature_a_receiver_verifies():
    secret = generate_signing_secret()
    timestamp = int(time.time())
    header = sign(secrets=[secret], msg_id="msg_1", timestamp=timestamp, body=BODY)
    assert " " not in header
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": header,
    }
    assert verify_signature(secret=secret, headers=headers, body=BODY)
    assert _verifies(secret, header, "msg_1", timestamp, BODY)


def test_order_is_kept_and_duplicates_are_signed_once():
    new, old = generate_signing_secret(), generate_signing_secret()
    args = {"msg_id": "m", "timestamp": 1700000000, "body": b"{}"}
    header = sign(secrets=[new, old, new], **args)
    assert header.split(" ") == [signature(secret=new, **args), signature(secret=old, **args)]


def test_secrets_without_prefix_or_padding_are_the_same_key():
    key = bytes(range(20))  # 20 bytes: base64 has padding to drop
    encoded = base64.b64encode(key).decode()
    assert encoded.endswith("=")
    assert secret_key("whsec_" + encoded) == key
    assert secret_key(encoded) == key
    assert secret_key("whsec_" + encoded.rstrip("=")) == key
    timestamp = int(time.time())
    header = sign(secrets=[encoded.rstrip("=")], msg_id="m", timestamp=timestamp, body=b"x")
    assert _verifies("whsec_" + encoded, header, "m", timestamp, b"x")


@pytest.mark.parametrize("secrets", [[], ["whsec_"], ["whsec_!!!notbase64"]])
def test_missing_or_malformed_secrets_are_refused(secrets):
    with pytest.raises(ValueError):
        sign(secrets=secrets, msg_id="m", timestamp=1, body=b"{}")


def test_a_lone_string_is_not_taken_for_a_list_of_secrets():
    with pytest.raises(TypeError):
        sign(secrets=generate_signing_secret(), msg_id="m", timestamp=1, body=b"{}")
