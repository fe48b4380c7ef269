"""Login: canonical /api/v1/auth/token/ and the seeds' login routes."""

import pytest
from django.contrib.auth import get_user_model

from tests.users.conftest import bearer, login

User = get_user_model()

pytestmark = pytest.mark.django_db


def test_it_logs_in_by_username_or_email_in_any_case(api_client, user, password):
    for identifier in (user.username, user.email, user.email.upper(), user.username.upper()):
        response = login(api_client, identifier, password)
        assert response.status_code == 200, identifier
        assert set(response.json()) == {"access", "refresh"}
    body = api_client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": password}, format="json"
    )
    assert body.status_code == 200
    me = bearer(body.json()["access"]).get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)
    user.refresh_from_db()
    assert user.last_login is not None


def test_it_answers_a_wrong_password_with_401_json(api_client, user):
    response = login(api_client, user.email, "wrong-password")
    assert response.status_code == 401
    assert response.json() == {
        "error": "Unable to log in with the provided credentials.",
        "details": {},
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_it_answers_an_unknown_user_like_a_wrong_password(api_client, user):
    wrong = login(api_client, user.email, "wrong-password")
    unknown = login(api_client, "nobody@example.com", "wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_it_refuses_an_inactive_user(api_client, user, password):
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert login(api_client, user.email, password).status_code == 401


def test_it_requires_an_identifier_and_a_password(api_client):
    response = api_client.post("/api/v1/auth/token/", {"password": "x"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["username"]
    response = api_client.post("/api/v1/auth/token/", {"username": "x"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["password"]


def test_it_refuses_unknown_login_fields(api_client, user, password):
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": user.email, "password": password, "remember": True},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"remember": ["Unknown field."]}


def test_it_logs_in_on_seed_002(api_client, user, password):
    response = api_client.post(
        "/api/access/auth/login/", {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/user/login", "email"),
        ("/api/v1/user/login", "username"),
        ("/api/login/", "username"),
    ],
)
def test_it_logs_in_on_seed_004_with_its_shape(api_client, user, password, path, field):
    identifier = user.email if field == "email" else user.username
    response = api_client.post(path, {field: identifier, "password": password}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "message": "Login successful",
        "access_token": body["access_token"],
        "refresh_token": body["refresh_token"],
        "user": {"id": str(user.id), "username": user.username, "email": user.email},
    }
    assert bearer(body["access_token"]).get("/api/v1/users/me/").status_code == 200


def test_it_does_not_redirect_seed_004_posts(api_client, user, password):
    # The documented paths have no trailing slash: they must resolve, not 301/500 (APPEND_SLASH).
    response = api_client.post(
        "/api/v1/user/login", {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200
    assert "Location" not in response
