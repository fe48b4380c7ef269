"""Registration: canonical /api/v1/auth/register/ and the seeds' routes."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.exceptions import ValidationError

from users import services
from users.signals import user_registered

User = get_user_model()
PASSWORD = "Corr3ct-horse-battery"

pytestmark = pytest.mark.django_db


def test_it_registers_and_sends_the_signal(api_client):
    received = []

    def receiver(sender, user, request, **kwargs):
        received.append((user.email, request is not None))

    user_registered.connect(receiver)
    try:
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": "New@Example.com", "password": PASSWORD, "username": "newbie"},
            format="json",
        )
    finally:
        user_registered.disconnect(receiver)
    assert response.status_code == 201, response.content
    body = response.json()
    user = User.objects.get(email="new@example.com")
    assert body == {
        "id": str(user.id),
        "email": "new@example.com",
        "username": "newbie",
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
        "date_joined": body["date_joined"],
    }
    assert user.check_password(PASSWORD)
    assert received == [("new@example.com", True)]


def test_it_derives_a_username_when_none_is_given(api_client):
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "solo@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["username"] == "solo"


def test_it_refuses_a_duplicate_email_in_another_case(api_client, user):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": user.email.upper(), "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"email": ["A user with this email already exists."]}
    assert User.objects.count() == 1


def test_it_refuses_a_duplicate_username_in_another_case(api_client, user):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "x@example.com", "password": PASSWORD, "username": user.username.upper()},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["username"]
    assert not User.objects.filter(email="x@example.com").exists()


def test_it_refuses_an_unknown_field_naming_it(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "a@example.com", "password": PASSWORD, "is_staff": True},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"is_staff": ["Unknown field."]}
    assert not User.objects.exists()


def test_it_refuses_a_weak_password_naming_the_field(api_client):
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "a@example.com", "password": "pass123"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "details"}
    assert list(body["details"]) == ["password"]
    assert body["error"].startswith("Invalid input: password:")
    assert not User.objects.exists()


def test_it_refuses_malformed_json(api_client):
    response = api_client.post(
        "/api/v1/auth/register/", data='{"email": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Malformed request body: it is not valid JSON.",
        "details": {},
    }


def test_it_refuses_a_username_with_an_at_sign(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "a@example.com", "password": PASSWORD, "username": "b@example.com"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"username": ["Usernames cannot contain '@'."]}


def test_it_ignores_a_stale_authorization_header(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "a@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201


def test_it_registers_on_seed_002_with_password_confirm(api_client):
    response = api_client.post(
        "/api/access/users/",
        {
            "email": "user@example.com",
            "username": "johndoe",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["username"] == "johndoe"


def test_it_requires_a_matching_password_confirm_on_seed_002(api_client):
    response = api_client.post(
        "/api/access/users/",
        {"email": "u@example.com", "password": PASSWORD, "password_confirm": PASSWORD + "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"password_confirm": ["Passwords do not match."]}
    missing = api_client.post(
        "/api/access/users/", {"email": "u@example.com", "password": PASSWORD}, format="json"
    )
    assert missing.status_code == 400
    assert list(missing.json()["details"]) == ["password_confirm"]
    assert not User.objects.exists()


def test_it_registers_on_seed_003(api_client):
    response = api_client.post(
        "/users/register/", {"email": "user@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["email"] == "user@example.com"


@pytest.mark.parametrize("path", ["/api/v1/user/create", "/api/account/create/"])
def test_it_registers_on_seed_004_with_its_shape(api_client, path):
    response = api_client.post(
        path,
        {"username": "testuser", "email": "test@example.com", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(username="testuser")
    body = response.json()
    assert body == {
        "id": str(user.id),
        "username": "testuser",
        "email": "test@example.com",
        "date_joined": body["date_joined"],
    }


def test_it_validates_in_the_service_too():
    with pytest.raises(ValidationError) as excinfo:
        services.user_register(email="not-an-email", password=PASSWORD)
    assert "email" in excinfo.value.detail
    with pytest.raises(TypeError):
        services.user_register(email="a@example.com", password=PASSWORD, is_staff=True)
