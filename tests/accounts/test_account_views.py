"""/api/v1/accounts/ and /api/v1/accounts/{id}/: tenancy, roles, secret visibility, rotation."""

import uuid

import pytest

from accounts.models import Account, Membership
from accounts.signals import account_secret_rotated
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def detail_url(account):
    return f"/api/v1/accounts/{account.pk}/"


def test_it_requires_credentials(api_client, account):
    response = api_client.get("/api/v1/accounts/")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response
    assert api_client.get(detail_url(account)).status_code == 401
    assert api_client.post("/api/v1/accounts/", {"name": "X"}).status_code == 401


def test_it_lists_only_my_accounts_with_my_role(admin_client, member_client, account, outsider):
    AccountFactory(name="Someone else's")
    body = member_client.get("/api/v1/accounts/").json()
    assert body["count"] == 1
    [item] = body["results"]
    assert item["id"] == account.pk
    assert item["role"] == 2
    assert item["role_name"] == "Normal user"
    assert "app_secret_token" not in item

    [item] = admin_client.get("/api/v1/accounts/").json()["results"]
    assert item["role"] == 1
    assert item["app_secret_token"] == str(account.app_secret_token)


def test_it_creates_an_account_with_the_caller_as_admin(auth_client, user):
    response = auth_client.post("/api/v1/accounts/", {"name": "  My   Account "})
    assert response.status_code == 201
    body = response.json()
    account = Account.objects.get(pk=body["id"])
    assert body == {
        "id": account.pk,
        "name": "My Account",
        "role": 1,
        "role_name": "Admin",
        "app_secret_token": str(account.app_secret_token),
        "created_by": str(user.pk),
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert Membership.objects.get(account=account).user == user
    assert Membership.objects.get(account=account).role == Membership.Role.ADMIN


def test_it_refuses_a_duplicate_name_in_any_case(auth_client, account):
    response = auth_client.post("/api/v1/accounts/", {"name": account.name.upper()})
    assert response.status_code == 400
    assert "name" in response.json()["details"]
    assert Account.objects.count() == 1


def test_it_refuses_unknown_and_read_only_fields(auth_client):
    response = auth_client.post(
        "/api/v1/accounts/", {"name": "A", "app_secret_token": str(uuid.uuid4())}
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"app_secret_token": ["Unknown field."]}
    assert not Account.objects.exists()


def test_it_shows_the_secret_to_admins_only(admin_client, member_client, account):
    admin_body = admin_client.get(detail_url(account)).json()
    assert admin_body["app_secret_token"] == str(account.app_secret_token)
    member_response = member_client.get(detail_url(account))
    assert member_response.status_code == 200
    assert "app_secret_token" not in member_response.json()
    assert member_response.json()["name"] == account.name


def test_it_answers_404_to_outsiders(outsider_client, account):
    assert outsider_client.get(detail_url(account)).status_code == 404
    assert outsider_client.patch(detail_url(account), {"name": "Taken"}).status_code == 404
    assert outsider_client.delete(detail_url(account)).status_code == 404
    response = outsider_client.post(f"{detail_url(account)}rotate-secret/")
    assert response.status_code == 404
    assert response.json()["error"]
    account.refresh_from_db()
    assert account.name != "Taken"


def test_it_forbids_members_to_write(member_client, account):
    old_token = account.app_secret_token
    assert member_client.patch(detail_url(account), {"name": "Renamed"}).status_code == 403
    assert member_client.put(detail_url(account), {"name": "Renamed"}).status_code == 403
    assert member_client.delete(detail_url(account)).status_code == 403
    assert member_client.post(f"{detail_url(account)}rotate-secret/").status_code == 403
    account.refresh_from_db()
    assert account.name != "Renamed"
    assert account.app_secret_token == old_token


def test_it_lets_admins_rename(admin_client, account):
    response = admin_client.put(detail_url(account), {"name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["app_secret_token"] == str(account.app_secret_token)
    response = admin_client.patch(detail_url(account), {})
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.name == "Renamed"


def test_it_validates_a_rename(admin_client, account):
    other = AccountFactory()
    response = admin_client.put(detail_url(account), {})
    assert response.status_code == 400
    assert "name" in response.json()["details"]
    response = admin_client.patch(detail_url(account), {"name": other.name})
    assert response.status_code == 400
    assert "name" in response.json()["details"]
    response = admin_client.patch(detail_url(account), {"nmae": "typo"})
    assert response.status_code == 400
    assert response.json()["details"] == {"nmae": ["Unknown field."]}
    account.refresh_from_db()
    assert account.name != other.name


def test_it_lets_admins_delete(admin_client, account):
    assert admin_client.delete(detail_url(account)).status_code == 204
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not Membership.objects.filter(account_id=account.pk).exists()


def test_it_rotates_the_secret(admin_client, account, django_capture_on_commit_callbacks):
    received = []

    def on_rotated(sender, account, old_token, **kwargs):
        received.append((account.pk, old_token))

    account_secret_rotated.connect(on_rotated)
    try:
        old_token = account.app_secret_token
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(f"{detail_url(account)}rotate-secret/")
    finally:
        account_secret_rotated.disconnect(on_rotated)
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.app_secret_token != old_token
    assert response.json() == {"id": account.pk, "app_secret_token": str(account.app_secret_token)}
    assert not Account.objects.filter(app_secret_token=old_token).exists()
    assert received == [(account.pk, old_token)]


def test_it_does_not_route_word_paths_as_account_ids(admin_client):
    assert admin_client.get("/api/v1/accounts/login/").status_code == 404
