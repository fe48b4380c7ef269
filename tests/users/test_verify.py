"""Token verification: 200 {} for a good token, 401 for a bad or revoked one."""

import pytest

from tests.users.conftest import bearer
from tests.users.test_authentication import assert_401

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/auth/token/verify/"


def verify(client, token):
    return client.post(VERIFY, {"token": token}, format="json")


def test_it_verifies_good_access_and_refresh_tokens(api_client, pair):
    for token in (pair["access"], pair["refresh"]):
        response = verify(api_client, token)
        assert response.status_code == 200
        assert response.json() == {}


def test_it_fails_garbage_and_a_missing_token(api_client):
    assert_401(verify(api_client, "garbage"))
    response = api_client.post(VERIFY, {}, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["token"]


def test_it_fails_revoked_tokens(api_client, pair):
    rotated = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"
    ).json()
    assert_401(verify(api_client, pair["refresh"]))  # spent by rotation
    assert verify(api_client, rotated["access"]).status_code == 200
    bearer(rotated["access"]).post("/api/v1/auth/logout/", {}, format="json")
    body = assert_401(verify(api_client, rotated["access"]))
    assert body["error"] == "Token has been revoked."
    assert_401(verify(api_client, rotated["refresh"]))
