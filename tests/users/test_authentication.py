"""Every authenticated request: bad, forged, expired or misused tokens answer 401."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.users.conftest import bearer

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _segments(token: str) -> list[str]:
    return token.split(".")


def _payload(token: str) -> dict:
    segment = _segments(token)[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def assert_401(response):
    assert response.status_code == 401, response.content
    body = response.json()
    assert set(body) == {"error", "details"}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    return body


def test_it_accepts_bearer_and_token_header_types(user, pair):
    assert bearer(pair["access"]).get(ME).status_code == 200
    client = bearer(pair["access"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {pair['access']}")
    assert client.get(ME).status_code == 200


def test_it_accepts_tokens_minted_without_a_family(user):
    access = str(RefreshToken.for_user(user).access_token)
    assert bearer(access).get(ME).status_code == 200


def test_it_asks_for_credentials_with_401(api_client):
    body = assert_401(api_client.get(ME))
    assert body["error"] == "Authentication credentials were not provided."


def test_it_refuses_a_tampered_signature(user, other_user, pair):
    header, _, signature = _segments(pair["access"])
    payload = _payload(pair["access"])
    payload["user_id"] = str(other_user.id)
    forged = f"{header}.{_b64(payload)}.{signature}"
    body = assert_401(bearer(forged).get(ME))
    assert body == {"error": "Token is invalid or expired.", "details": {}}


def test_it_refuses_alg_none(user, pair):
    payload = _payload(pair["access"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    assert_401(bearer(unsigned).get(ME))


def test_it_refuses_a_token_signed_with_another_key(user, pair):
    payload = _payload(pair["access"])
    other = jwt.encode(payload, "not-the-signing-key-but-long-enough-for-hs256!", algorithm="HS256")
    assert_401(bearer(other).get(ME))


def test_it_refuses_an_expired_token(user):
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=2), lifetime=timedelta(minutes=60))
    assert_401(bearer(str(token)).get(ME))


def test_it_refuses_a_refresh_token_used_as_access(user, pair):
    assert_401(bearer(pair["refresh"]).get(ME))


def test_it_refuses_a_token_of_a_deleted_or_inactive_user(user, pair):
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_401(bearer(pair["access"]).get(ME))


def test_it_refuses_a_malformed_header(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer a b")
    assert_401(api_client.get(ME))
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    assert_401(api_client.get(ME))


def test_it_signs_with_the_configured_algorithm_only(pair):
    header = json.loads(base64.urlsafe_b64decode(_segments(pair["access"])[0] + "=="))
    assert header["alg"] == settings.SIMPLE_JWT["ALGORITHM"] == "HS256"
    claims = _payload(pair["access"])
    assert claims["token_type"] == "access"
    assert claims["fam"] == _payload(pair["refresh"])["fam"]
