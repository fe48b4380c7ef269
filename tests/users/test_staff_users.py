"""Staff-only user directory: /api/v1/users/, /api/v1/users/{id}/ and seed 004's /api/v1/users."""

import pytest

from tests.factories import UserFactory
from tests.users.test_authentication import assert_401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/users/", "/api/v1/users"])
def test_it_lists_users_for_staff(staff_client, staff_user, user, path):
    response = staff_client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert {row["email"] for row in body["results"]} == {staff_user.email, user.email}
    row = next(r for r in body["results"] if r["id"] == str(user.id))
    assert set(row) == {
        "id",
        "email",
        "username",
        "first_name",
        "last_name",
        "phone_number",
        "birth_date",
        "avatar",
        "notification_preferences",
        "email_confirmed",
        "credits",
        "subscription_status",
        "subscription_plan",
        "date_joined",
        "is_active",
        "is_staff",
        "last_login",
    }
    assert "password" not in row


def test_it_filters_by_email_and_search(staff_client, user):
    UserFactory(first_name="Grace", email="hopper@example.com", username="ghopper")
    response = staff_client.get("/api/v1/users/", {"email": user.email.upper()})
    assert [r["id"] for r in response.json()["results"]] == [str(user.id)]
    response = staff_client.get("/api/v1/users/", {"search": "grace"})
    assert [r["email"] for r in response.json()["results"]] == ["hopper@example.com"]


def test_it_retrieves_one_user_for_staff(staff_client, user):
    response = staff_client.get(f"/api/v1/users/{user.id}/")
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    missing = staff_client.get("/api/v1/users/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error", "details"}


@pytest.mark.parametrize("path", ["/api/v1/users/", "/api/v1/users"])
def test_it_forbids_non_staff(auth_client, path):
    response = auth_client.get(path)
    assert response.status_code == 403
    assert set(response.json()) == {"error", "details"}


def test_it_forbids_non_staff_the_detail(auth_client, other_user):
    assert auth_client.get(f"/api/v1/users/{other_user.id}/").status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/users/", "/api/v1/users"])
def test_it_asks_anonymous_callers_to_authenticate(api_client, path):
    assert_401(api_client.get(path))


def test_it_does_not_route_me_to_the_staff_detail(staff_client, staff_user):
    response = staff_client.get("/api/v1/users/me/")
    assert response.json()["id"] == str(staff_user.id)
