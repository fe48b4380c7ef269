"""The caller's profile: /api/v1/users/me/ and seed 002's /api/access/users/me/."""

import pytest

from tests.users.test_authentication import assert_401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/users/me/", "/api/access/users/me/"])
def test_it_shows_the_profile(auth_client, user, path):
    response = auth_client.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": user.email,
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "phone_number": "",
        "birth_date": None,
        "avatar": None,
        "notification_preferences": {"email": True, "marketing": False, "security": True},
        "email_confirmed": False,
        "credits": 0,
        "subscription_status": "",
        "subscription_plan": "",
        "date_joined": response.json()["date_joined"],
    }


@pytest.mark.parametrize("path", ["/api/v1/users/me/", "/api/access/users/me/"])
def test_it_updates_the_profile(auth_client, user, path):
    response = auth_client.patch(
        path,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "phone_number": "+44 20 7946 0958",
            "birth_date": "1990-12-10",
            "notification_preferences": {"marketing": True},
            "username": "ada",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["first_name"] == "Ada"
    assert body["phone_number"] == "+442079460958"
    assert body["notification_preferences"] == {"email": True, "marketing": True, "security": True}
    user.refresh_from_db()
    assert (user.username, user.last_name, str(user.birth_date)) == (
        "ada",
        "Lovelace",
        "1990-12-10",
    )


def test_it_refuses_read_only_fields(auth_client, user):
    response = auth_client.patch(
        "/api/v1/users/me/", {"email": "new@example.com", "credits": 100}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == {
        "credits": ["This field is read-only."],
        "email": ["This field is read-only."],
    }
    user.refresh_from_db()
    assert user.email != "new@example.com"
    assert user.credits == 0


def test_it_refuses_unknown_fields(auth_client):
    response = auth_client.patch("/api/v1/users/me/", {"nickname": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"nickname": ["Unknown field."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone_number", "12345"),
        ("birth_date", "2999-01-01"),
        ("notification_preferences", {"sms": True}),
        ("notification_preferences", {"email": "yes"}),
        ("username", "has space"),
        ("username", "a@b.c"),
    ],
)
def test_it_refuses_invalid_values_naming_the_field(auth_client, user, field, value):
    response = auth_client.patch("/api/v1/users/me/", {field: value}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["details"]) == [field]
    before = user.__dict__[field] if field != "notification_preferences" else None
    user.refresh_from_db()
    if before is not None:
        assert getattr(user, field) == before


def test_it_refuses_a_username_taken_in_another_case(auth_client, other_user):
    response = auth_client.patch(
        "/api/v1/users/me/", {"username": other_user.username.upper()}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["username"]


def test_it_requires_authentication(api_client):
    assert_401(api_client.get("/api/v1/users/me/"))
    assert_401(api_client.patch("/api/v1/users/me/", {"first_name": "x"}, format="json"))
