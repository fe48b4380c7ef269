"""JWT tokens (users.services.tokens): refresh, verify, logout, and races and outages.

Refresh rotation and reuse detection (canonical, seed 002 and seed 004 routes).

Token verification: 200 {} for a good token, 401 for a bad or revoked one.

Logout revokes the access token, the refresh token and their login (all three routes).

Races and outages: one refresh token rotates once; a cache outage never un-revokes a token.
"""

import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.users.conftest import bearer, login
from tests.users.test_authentication import _payload, assert_401
from users import services
from users.exceptions import RevocationUnavailable
from users.models import RevokedToken
from users.selectors import token_is_revoked

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


def test_it_revokes_the_access_and_the_refresh_token(api_client, user, pair):
    client = bearer(pair["access"])
    response = client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"message": "Logout successful"}
    assert_401(client.get(ME))
    assert_401(api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"))
    kinds = set(RevokedToken.objects.filter(user=user).values_list("kind", "reason"))
    assert kinds == {("access", "logout"), ("refresh", "logout"), ("family", "logout")}
    family = RevokedToken.objects.get(kind="family")
    assert family.identifier == _payload(pair["access"])["fam"]


def test_it_revokes_tokens_rotated_earlier_in_the_same_login(api_client, pair):
    rotated = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").json()
    bearer(rotated["access"]).post("/api/v1/auth/logout/", {}, format="json")
    # The access token of the first pair belongs to the same login: it goes too.
    assert_401(bearer(pair["access"]).get(ME))
    assert_401(api_client.post(REFRESH, {"refresh": rotated["refresh"]}, format="json"))


def test_it_leaves_other_logins_alone(api_client, user, pair):
    other = login(api_client, user.email).json()
    bearer(pair["access"]).post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    assert bearer(other["access"]).get(ME).status_code == 200


def test_it_refuses_an_invalid_refresh_token_and_revokes_nothing(pair):
    client = bearer(pair["access"])
    response = client.post("/api/v1/auth/logout/", {"refresh": "garbage"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"refresh": ["Token is invalid or expired."]}
    assert not RevokedToken.objects.exists()
    assert client.get(ME).status_code == 200


def test_it_refuses_another_users_refresh_token(user, other_user, pair):
    foreign = str(RefreshToken.for_user(other_user))
    response = bearer(pair["access"]).post(
        "/api/v1/auth/logout/", {"refresh": foreign}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["refresh"]
    assert not RevokedToken.objects.exists()


def test_it_requires_authentication(api_client, pair):
    response = api_client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    assert_401(response)
    assert not RevokedToken.objects.exists()


def test_it_logs_out_on_seed_003_without_a_body(api_client, user):
    # Seed 003 clients send `Authorization: Token <jwt>` and no body.
    tokens = login(api_client, user.email).json()
    client = bearer(tokens["access"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['access']}")
    response = client.post("/users/logout/")
    assert response.status_code == 200
    assert_401(client.get(ME))
    assert_401(api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json"))


def test_it_logs_out_on_seed_004_with_the_refresh_header(api_client, pair):
    client = bearer(pair["access"])
    response = client.post(
        "/api/v1/user/logout",
        {"refresh_token": pair["refresh"]},
        format="json",
        HTTP_X_REFRESH_TOKEN=pair["refresh"],
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Logout successful"}
    assert_401(client.get(ME))
    assert_401(api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json"))


def test_it_names_refresh_token_on_seed_004_errors(pair):
    response = bearer(pair["access"]).post(
        "/api/v1/user/logout", {"refresh_token": "garbage"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["refresh_token"]


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


@pytest.mark.django_db(transaction=True)
def test_it_rotates_a_refresh_token_only_once_under_concurrency(user):
    refresh = services.token_pair_for_user(user=user)["refresh"]
    results: list[str] = []
    barrier = threading.Barrier(4)

    def rotate():
        try:
            barrier.wait(timeout=60)
            services.token_refresh(refresh=refresh)
            results.append("rotated")
        except AuthenticationFailed:
            results.append("refused")
        except Exception as exc:  # surfaces in the assertion below instead of a silent thread
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=rotate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert sorted(results) == ["refused", "refused", "refused", "rotated"]
    assert RevokedToken.objects.filter(kind="refresh").count() == 1
    # The losers were treated as reuse: the whole login is revoked.
    assert RevokedToken.objects.filter(kind="family", reason="reuse_detected").count() == 1


@pytest.mark.django_db
def test_it_asks_the_database_when_the_cache_is_down(user):
    pair = services.token_pair_for_user(user=user)
    services.user_logout(access=pair["access"], refresh=None)
    revoked = AccessToken(pair["access"]).payload
    fresh = AccessToken(services.token_pair_for_user(user=user)["access"]).payload
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert token_is_revoked(payload=revoked) is True
        assert token_is_revoked(payload=fresh) is False


@pytest.mark.django_db
def test_it_revokes_nothing_when_the_cache_cannot_record_it(user):
    pair = services.token_pair_for_user(user=user)
    with override_settings(CACHES=UNREACHABLE_REDIS), pytest.raises(RevocationUnavailable):
        services.user_logout(access=pair["access"], refresh=pair["refresh"])
    assert not RevokedToken.objects.exists()
