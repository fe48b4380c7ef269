"""What the schema tells a client beyond the operations: how webhooks are signed (with a snippet
that really verifies a delivery), CL-X-TOKEN as the account's app_secret_token, each operation's
real security, the tags in reading order, and request bodies that state what is enforced."""

import re
import time

import pytest
from standardwebhooks import WebhookVerificationError

from destinations.models import generate_signing_secret
from destinations.pipeline.signing import sign

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_introduction_explains_signing(schema):
    text = schema["info"]["description"]
    for term in (
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "whsec_",
        "rotate-secret",
        "v1,<new> v1,<old>",
        "app_secret_token",
    ):
        assert term in text, term


def test_the_verification_snippet_verifies_a_real_signature_and_refuses_a_forged_one(schema):
    snippet = re.search(r"```python\n(.*?)```", schema["info"]["description"], re.DOTALL).group(1)
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - our own documentation
    verify = namespace["verify"]
    old, new = generate_signing_secret(), generate_signing_secret()
    body = b'{"amount": 19.90}'
    timestamp = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        # During a rotation overlap: both signatures, newest first, as the engine sends them.
        "webhook-signature": sign(
            secrets=[new, old], msg_id="msg_1", timestamp=timestamp, body=body
        ),
    }
    assert verify(new, body, headers) == {"amount": 19.9}
    assert verify(old, body, headers) == {"amount": 19.9}  # a receiver not yet updated
    with pytest.raises(WebhookVerificationError):
        verify(generate_signing_secret(), body, headers)
    with pytest.raises(WebhookVerificationError):
        verify(new, b'{"amount": 1}', headers)


def test_cl_x_token_and_api_keys_are_api_key_schemes(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["clXToken"]["type"] == "apiKey"
    assert schemes["clXToken"]["in"] == "header"
    assert schemes["clXToken"]["name"] == "CL-X-TOKEN"
    assert "app_secret_token" in schemes["clXToken"]["description"]
    assert schemes["ApiKeyAuth"] == {**schemes["ApiKeyAuth"], "type": "apiKey", "name": "X-API-Key"}


@pytest.mark.parametrize("path", ["/api/v1/incoming-data/", "/server/incoming_data/"])
def test_ingest_lists_the_credentials_it_takes(schema, path):
    security = schema["paths"][path]["post"]["security"]
    assert {"clXToken": []} in security
    assert {"ApiKeyAuth": []} in security
    assert {"oauth2": ["ingest"]} in security
    # A JWT or a session alone gets 401 there: never offered alone.
    assert {"jwtAuth": []} not in security
    assert {"cookieAuth": []} not in security
    assert all(requirement for requirement in security)  # no anonymous access
    parameters = schema["paths"][path]["post"].get("parameters", [])
    assert "CL-X-TOKEN" not in {p["name"] for p in parameters}  # the scheme describes it


def test_no_other_operation_offers_cl_x_token(schema):
    for path, _, operation in operations(schema):
        if "incoming" not in path:
            assert all("clXToken" not in r for r in operation.get("security", [])), path


def test_tags_are_in_reading_order_with_compat_last(schema):
    names = [tag["name"] for tag in schema["tags"]]
    assert names[:5] == ["auth", "users", "accounts", "destinations", "ingest"]
    assert names[-1] == "compat"
    used = {tag for _, _, operation in operations(schema) for tag in operation.get("tags", [])}
    assert used <= set(names), used - set(names)  # every tag used is placed and described
    assert all(tag.get("description") for tag in schema["tags"])


def test_strict_request_bodies_refuse_unknown_fields_in_the_schema(schema):
    components = schema["components"]["schemas"]
    closed = {
        name
        for name, component in components.items()
        if name.endswith("Request") and component.get("additionalProperties") is False
    }
    for name in (
        "DestinationInputRequest",
        "PatchedDestinationInputRequest",
        "ScheduledTaskInputRequest",
        "InviteInputRequest",
        "ApiKeyInputRequest",
        "RotateSecretInputRequest",
    ):
        assert name in closed, name
    assert components["DestinationInputRequest"]["properties"]["url"]["maxLength"] == 2048
    assert components["InviteInputRequest"]["properties"]["email"]["format"] == "email"


def test_new_passwords_state_the_validators_minimum_length(schema, settings):
    components = schema["components"]["schemas"]
    assert components["RegisterRequest"]["properties"]["password"]["minLength"] == 8
    assert components["PasswordChangeRequest"]["properties"]["new_password"]["minLength"] == 8
    # Logging in takes any password (an old account's may be shorter than today's rule).
    assert components["LoginRequest"]["properties"]["password"].get("minLength", 0) < 8
