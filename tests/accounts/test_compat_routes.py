"""Seed 003 paths: /users/login/, /users/, /users/{id}/, /users/invite/, /accounts/..."""

import pytest
from django.urls import Resolver404, resolve
from rest_framework.test import APIClient

from accounts.compat_views import CompatAccountViewSet, CompatMembershipViewSet
from accounts.models import Account, Membership
from tests.conftest import jwt_client
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_logs_in_with_the_seed_003_shape(api_client, account, admin_user):
    other = MembershipFactory(user=admin_user).account
    response = api_client.post(
        "/users/login/", {"email": admin_user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "refresh", "id", "accounts"}
    assert body["id"] == str(admin_user.pk)
    assert sorted(body["accounts"]) == sorted([account.pk, other.pk])

    # Seed 003's README: the token goes in `Authorization: Token <token>`.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    detail = client.get(f"/accounts/{account.pk}/")
    assert detail.status_code == 200
    assert detail.json()["app_secret_token"] == str(account.app_secret_token)


def test_it_refuses_bad_logins(api_client, user):
    response = api_client.post("/users/login/", {"email": user.email, "password": "wrong"})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response
    assert "token" not in response.json()
    response = api_client.post("/users/login/", {"password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "email" in response.json()["details"]
    response = api_client.post(
        "/users/login/", {"email": user.email, "password": DEFAULT_PASSWORD, "remember": True}
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"remember": ["Unknown field."]}


def test_it_ignores_a_stale_authorization_header_at_login(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-jwt")
    response = client.post("/users/login/", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200


def test_it_lists_myself_and_the_members_of_accounts_i_administer(
    admin_client, admin_user, member_user, outsider
):
    stranger = UserFactory()
    # A co-member of an account where admin_user is only a normal member stays hidden.
    side = MembershipFactory(user=admin_user, role=Membership.Role.NORMAL_USER).account
    hidden = MembershipFactory(account=side, role=Membership.Role.ADMIN).user

    response = admin_client.get("/users/")
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["results"]}
    assert ids == {str(admin_user.pk), str(member_user.pk)}
    assert str(stranger.pk) not in ids
    assert str(hidden.pk) not in ids
    assert str(outsider.pk) not in ids
    assert set(response.json()["results"][0]) == {
        "id",
        "email",
        "username",
        "first_name",
        "last_name",
        "phone_number",
        "birth_date",
        "is_active",
        "date_joined",
    }


def test_it_shows_a_normal_member_only_themself(member_client, member_user):
    body = member_client.get("/users/").json()
    assert [item["id"] for item in body["results"]] == [str(member_user.pk)]


def test_it_filters_users_by_email(admin_client, member_user):
    body = admin_client.get("/users/", {"email": member_user.email.upper()}).json()
    assert [item["id"] for item in body["results"]] == [str(member_user.pk)]
    assert admin_client.get("/users/", {"email": "nobody@example.com"}).json()["count"] == 0


def test_it_shows_staff_every_user(staff_client, admin_user, member_user, outsider):
    body = staff_client.get("/users/", {"page_size": 100}).json()
    ids = {item["id"] for item in body["results"]}
    assert {str(admin_user.pk), str(member_user.pk), str(outsider.pk)} <= ids


def test_it_requires_credentials_for_the_user_directory(api_client, user):
    assert api_client.get("/users/").status_code == 401
    assert api_client.get(f"/users/{user.pk}/").status_code == 401


def test_it_lets_users_edit_themselves(member_client, member_user):
    response = member_client.put(
        f"/users/{member_user.pk}/", {"first_name": "Mia", "username": "mia"}
    )
    assert response.status_code == 200
    assert response.json()["first_name"] == "Mia"
    member_user.refresh_from_db()
    assert member_user.username == "mia"


def test_it_forbids_admins_to_edit_their_members(admin_client, member_user):
    url = f"/users/{member_user.pk}/"
    assert admin_client.get(url).status_code == 200
    for payload in (
        {"email": "taken@example.com"},
        {"password": "N3w-passphrase!"},
        {"first_name": "X"},
    ):
        response = admin_client.put(url, payload)
        assert response.status_code == 403
        response = admin_client.patch(url, payload)
        assert response.status_code == 403
    member_user.refresh_from_db()
    assert member_user.email != "taken@example.com"
    assert member_user.first_name != "X"
    assert member_user.check_password(DEFAULT_PASSWORD)


def test_it_hides_invisible_users(member_client, admin_user, outsider):
    assert member_client.get(f"/users/{admin_user.pk}/").status_code == 404
    assert member_client.put(f"/users/{outsider.pk}/", {"first_name": "X"}).status_code == 404
    outsider.refresh_from_db()
    assert outsider.first_name != "X"


def test_it_lets_staff_edit_anyone(staff_client, member_user):
    response = staff_client.patch(
        f"/users/{member_user.pk}/", {"email": "Renamed@Example.com", "last_name": "Doe"}
    )
    assert response.status_code == 200
    member_user.refresh_from_db()
    assert member_user.email == "renamed@example.com"
    assert member_user.last_name == "Doe"
    assert not member_user.email_confirmed


def test_it_needs_the_current_password_to_change_ones_own(member_user):
    client = jwt_client(member_user)
    url = f"/users/{member_user.pk}/"
    response = client.patch(url, {"password": "N3w-long-passphrase"})
    assert response.status_code == 400
    assert "current_password" in response.json()["details"]
    response = client.patch(url, {"password": "short", "current_password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "password" in response.json()["details"]
    member_user.refresh_from_db()
    assert member_user.check_password(DEFAULT_PASSWORD)

    response = client.patch(
        url, {"password": "N3w-long-passphrase", "current_password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert "password" not in response.json()
    member_user.refresh_from_db()
    assert member_user.check_password("N3w-long-passphrase")
    # Every earlier session ends with the password change.
    assert client.get("/users/").status_code == 401


def test_it_validates_user_edits(member_client, member_user, other_user):
    url = f"/users/{member_user.pk}/"
    response = member_client.patch(url, {"is_staff": True})
    assert response.status_code == 400
    assert response.json()["details"] == {"is_staff": ["Unknown field."]}
    response = member_client.patch(url, {"email": other_user.email.upper()})
    assert response.status_code == 400
    assert "email" in response.json()["details"]
    member_user.refresh_from_db()
    assert not member_user.is_staff
    assert member_user.email != other_user.email


def test_it_serves_seed_003_account_routes(api_client, admin_client, member_client, account):
    response = admin_client.post("/accounts/", {"name": "My Account"})
    assert response.status_code == 201
    created = Account.objects.get(name="My Account")
    assert admin_client.get("/accounts/").json()["count"] == 2
    assert "app_secret_token" not in member_client.get(f"/accounts/{account.pk}/").json()
    assert admin_client.put(f"/accounts/{created.pk}/", {"name": "Ours"}).status_code == 200
    assert admin_client.delete(f"/accounts/{created.pk}/").status_code == 204

    new_user = UserFactory()
    response = admin_client.post(
        f"/accounts/{account.pk}/members/", {"user": str(new_user.pk), "role": 2}
    )
    assert response.status_code == 201
    assert admin_client.get(f"/accounts/{account.pk}/members/").json()["count"] == 3
    assert member_client.get(f"/accounts/{account.pk}/members/").status_code == 403
    assert api_client.get("/accounts/").status_code == 401


def test_it_invites_through_the_seed_003_path(
    admin_client, account, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/users/invite/", {"email": "newuser@example.com", "account_id": account.pk}
        )
    assert response.status_code == 201
    assert Membership.objects.get(user__email="newuser@example.com").account == account
    assert len(mailoutbox) == 1


def _view_class(path):
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)


def test_it_leaves_word_paths_under_accounts_to_other_pages():
    # allauth's HTML pages live at /accounts/login/ etc.: the API routes match digits only.
    assert _view_class("/accounts/12/") is CompatAccountViewSet
    assert _view_class("/accounts/12/members/") is CompatMembershipViewSet
    for path in (
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/1abc/",
        "/accounts/x/members/",
    ):
        view_class = _view_class(path)
        assert view_class is None or not view_class.__module__.startswith("accounts.")
