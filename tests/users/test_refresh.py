"""Refresh rotation and reuse detection (canonical, seed 002 and seed 004 routes)."""

import pytest
from django.core.cache import cache
from rest_framework_simplejwt.tokens import RefreshToken

from tests.users.conftest import bearer
from tests.users.test_authentication import _payload, assert_401
from users.models import RevokedToken

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
REFRESH = "/api/v1/auth/token/refresh/"


def refresh(client, token):
    return client.post(REFRESH, {"refresh": token}, format="json")


def test_it_rotates_a_refresh_token_in_the_same_family(api_client, user, pair):
    response = refresh(api_client, pair["refresh"])
    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != pair["refresh"]
    assert _payload(new["refresh"])["fam"] == _payload(pair["refresh"])["fam"]
    assert bearer(new["access"]).get(ME).status_code == 200
    row = RevokedToken.objects.get(kind="refresh")
    assert row.identifier == _payload(pair["refresh"])["jti"]
    assert row.reason == "rotated"
    assert row.user == user


def test_it_revokes_the_whole_family_when_a_spent_refresh_token_is_reused(api_client, pair):
    first = refresh(api_client, pair["refresh"]).json()
    second = refresh(api_client, first["refresh"]).json()
    assert bearer(second["access"]).get(ME).status_code == 200

    reuse = refresh(api_client, pair["refresh"])
    body = assert_401(reuse)
    assert "already used" in body["error"]
    # The newest refresh token and its access token die with the family.
    assert_401(refresh(api_client, second["refresh"]))
    assert_401(bearer(second["access"]).get(ME))
    assert_401(bearer(pair["access"]).get(ME))
    assert RevokedToken.objects.filter(kind="family", reason="reuse_detected").count() == 1


def test_it_detects_reuse_while_the_denylist_answers_from_the_database(api_client, pair):
    first = refresh(api_client, pair["refresh"]).json()
    cache.clear()  # Redis restarted: the denylist check falls back to PostgreSQL for a while

    body = assert_401(refresh(api_client, pair["refresh"]))
    assert "already used" in body["error"]
    assert RevokedToken.objects.filter(kind="family", reason="reuse_detected").count() == 1
    assert_401(refresh(api_client, first["refresh"]))
    assert_401(bearer(first["access"]).get(ME))


def test_it_does_not_touch_other_logins_of_the_user(api_client, user, pair):
    from tests.users.conftest import login

    other_login = login(api_client, user.email).json()
    refresh(api_client, pair["refresh"])
    refresh(api_client, pair["refresh"])  # reuse: first login's family revoked
    assert bearer(other_login["access"]).get(ME).status_code == 200
    assert refresh(api_client, other_login["refresh"]).status_code == 200


def test_it_rotates_and_detects_reuse_of_tokens_minted_without_a_family(api_client, user):
    original = str(RefreshToken.for_user(user))
    rotated = refresh(api_client, original).json()
    assert bearer(rotated["access"]).get(ME).status_code == 200
    assert_401(refresh(api_client, original))
    assert_401(bearer(rotated["access"]).get(ME))


def test_it_refuses_an_access_token_or_garbage(api_client, pair):
    assert_401(refresh(api_client, pair["access"]))
    assert_401(refresh(api_client, "garbage"))
    missing = api_client.post(REFRESH, {}, format="json")
    assert missing.status_code == 400
    assert list(missing.json()["details"]) == ["refresh"]


def test_it_refuses_the_refresh_token_of_an_inactive_user(api_client, user, pair):
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_401(refresh(api_client, pair["refresh"]))


def test_it_refreshes_on_seed_002(api_client, pair):
    response = api_client.post(
        "/api/access/auth/refresh/", {"refresh": pair["refresh"]}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_it_refreshes_on_seed_004_from_the_header(api_client, pair):
    response = api_client.post(
        "/api/v1/user/refresh",
        HTTP_X_REFRESH_TOKEN=pair["refresh"],
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "message": "Token refreshed successfully",
        "access_token": body["access_token"],
        "refresh_token": body["refresh_token"],
    }
    assert bearer(body["access_token"]).get(ME).status_code == 200


def test_it_refreshes_on_seed_004_from_the_body(api_client, pair):
    response = api_client.post(
        "/api/v1/user/refresh", {"refresh_token": pair["refresh"]}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"message", "access_token", "refresh_token"}


def test_it_names_the_missing_refresh_token_on_seed_004(api_client):
    response = api_client.post("/api/v1/user/refresh", {}, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["refresh_token"]
