"""Logout revokes the access token, the refresh token and their login (all three routes)."""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from tests.users.conftest import bearer, login
from tests.users.test_authentication import _payload, assert_401
from users.models import RevokedToken

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
REFRESH = "/api/v1/auth/token/refresh/"


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
