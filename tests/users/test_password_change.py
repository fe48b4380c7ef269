"""Password change: old password required, validated, other sessions logged out."""

import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.users.conftest import bearer, login
from tests.users.test_authentication import assert_401

pytestmark = pytest.mark.django_db

CHANGE = "/api/v1/auth/password/change/"
NEW_PASSWORD = "An0ther-long-passphrase"


def test_it_changes_the_password_and_logs_out_other_sessions(api_client, user):
    first = login(api_client, user.email).json()
    second = login(api_client, user.email).json()
    response = bearer(first["access"]).post(
        CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"message", "access", "refresh"}
    assert body["message"] == "Your password has been changed."
    for old in (first, second):
        assert_401(bearer(old["access"]).get("/api/v1/users/me/"))
    assert bearer(body["access"]).get("/api/v1/users/me/").status_code == 200
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    assert login(api_client, user.email, DEFAULT_PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"old_password": "wrong", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": DEFAULT_PASSWORD, "new_password": "short"}, "new_password"),
        (
            {
                "old_password": DEFAULT_PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": "x",
            },
            "new_password_confirm",
        ),
        ({"new_password": NEW_PASSWORD}, "old_password"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(auth_client, user, payload, field):
    response = auth_client.post(CHANGE, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == [field]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_it_requires_authentication(api_client):
    assert_401(api_client.post(CHANGE, {"old_password": "a", "new_password": "b"}, format="json"))
