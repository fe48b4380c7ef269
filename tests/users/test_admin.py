"""Admin pages of the identity app render, search and filter; the bulk logout action works."""

import pytest

from tests.factories import UserFactory
from tests.users.conftest import bearer, login
from tests.users.test_authentication import assert_401
from users import services
from users.models import Device, RevokedToken

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


LIFECYCLE_PAGES = [
    ("/admin/users/emailconfirmationtoken/", {"used_at__isempty": "1"}),
    ("/admin/users/passwordresettoken/", {"used_at__isempty": "1"}),
    ("/admin/users/device/", {"device_type": "pc"}),
    ("/admin/users/devicelogin/", {}),
    ("/admin/users/preregistration/", {}),
    ("/admin/users/credittransaction/", {}),
    ("/admin/users/stripeevent/", {"outcome__exact": "processed"}),
]


@pytest.mark.parametrize(("path", "filters"), LIFECYCLE_PAGES)
def test_it_lists_the_lifecycle_models(admin_client, api_client, user, path, filters):
    login(api_client, user.email, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")
    services.credits_grant(user=user, amount=5, reason="Bonus")
    services.pre_registration_create(email="early@example.com")
    services.password_reset_deliver(email=user.email)
    response = admin_client.get(path, {"q": "example.com", **filters})
    assert response.status_code == 200, path


def test_the_device_admin_action_revokes_tokens(admin_client, api_client, user):
    tokens = login(api_client, user.email).json()
    device = Device.objects.get(user=user)
    response = admin_client.post(
        "/admin/users/device/",
        {"action": "revoke_devices", "_selected_action": [str(device.pk)]},
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.revoked_at is not None
    assert_401(bearer(tokens["access"]).get("/api/v1/users/me/"))
