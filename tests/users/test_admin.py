"""Admin pages of the identity app render, search and filter; the bulk logout action works."""

import pytest

from tests.factories import UserFactory
from tests.users.conftest import bearer, login
from tests.users.test_authentication import assert_401
from users.models import RevokedToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_it_lists_searches_and_filters_users(admin_client, user):
    response = admin_client.get("/admin/users/user/", {"q": user.email, "is_staff__exact": "0"})
    assert response.status_code == 200
    assert user.email in response.content.decode()
    assert admin_client.get(f"/admin/users/user/{user.pk}/change/").status_code == 200


def test_it_adds_a_user_from_the_admin(admin_client):
    response = admin_client.post(
        "/admin/users/user/add/",
        {
            "email": "Added@Example.com",
            "username": "added",
            "usable_password": "true",
            "password1": "Corr3ct-horse-battery",
            "password2": "Corr3ct-horse-battery",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(email="added@example.com").exists()


def test_it_lists_revocations_read_only(admin_client, user, api_client):
    tokens = login(api_client, user.email).json()
    bearer(tokens["access"]).post("/api/v1/auth/logout/", {}, format="json")
    response = admin_client.get(
        "/admin/users/revokedtoken/", {"kind__exact": "family", "q": user.email}
    )
    assert response.status_code == 200
    assert "Token family" in response.content.decode()
    assert admin_client.get("/admin/users/revokedtoken/add/").status_code == 403


def test_it_logs_selected_users_out_everywhere(admin_client, user, api_client):
    tokens = login(api_client, user.email).json()
    response = admin_client.post(
        "/admin/users/user/", {"action": "revoke_all_tokens", "_selected_action": [str(user.pk)]}
    )
    assert response.status_code == 302
    assert RevokedToken.objects.filter(kind="user", identifier=str(user.pk)).exists()
    assert_401(bearer(tokens["access"]).get("/api/v1/users/me/"))
