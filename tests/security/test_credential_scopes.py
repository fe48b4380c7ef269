"""Delegated credentials (API keys, OAuth2 tokens) keep to their scopes and their account on
every route, including views that declare their own permission classes."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership
from destinations.models import Destination
from endpoints.services import api_key_create
from tests.destinations.factories import DestinationFactory
from tests.factories import AccountFactory, MembershipFactory
from tests.oauth.conftest import bearer_client, client_credentials_token, make_application

pytestmark = pytest.mark.django_db


def key_client(user, *, scopes, account_id=None) -> APIClient:
    _, raw = api_key_create(user=user, name="k", scopes=scopes, account_id=account_id)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/v1/users/me/", {"first_name": "Mallory"}),
        ("post", "/api/v1/users/me/credits/spend/", {"amount": 1, "reason": "x"}),
        ("post", "/api/v1/auth/password/change/", {"old_password": "x", "new_password": "y"}),
        ("post", "/api/v1/accounts/", {"name": "Made by a read-only key"}),
    ],
)
def test_a_read_only_api_key_cannot_write_anywhere(user, method, path, body):
    client = key_client(user, scopes=["read"])
    response = getattr(client, method)(path, body, format="json")
    assert response.status_code == 403, response.content
    assert '"write" scope' in response.json()["error"]
    user.refresh_from_db()
    assert user.first_name != "Mallory"


def test_a_read_only_api_key_can_read(user):
    response = key_client(user, scopes=["read"]).get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_an_ingest_only_key_cannot_read_the_profile(user):
    response = key_client(user, scopes=["ingest"]).get("/api/v1/users/me/")
    assert response.status_code == 403


def test_a_read_only_oauth2_token_cannot_write(user):
    application, secret = make_application(user=user)
    token = client_credentials_token(application, secret, scope="read")
    client = bearer_client(token)
    assert client.get("/api/v1/users/me/").status_code == 200
    response = client.patch("/api/v1/users/me/", {"first_name": "Mallory"}, format="json")
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.first_name != "Mallory"


def test_an_account_bound_key_acts_for_its_account_only(user):
    bound = AccountFactory()
    other = AccountFactory()
    MembershipFactory(account=bound, user=user, role=Membership.Role.ADMIN)
    MembershipFactory(account=other, user=user, role=Membership.Role.ADMIN)
    other_destination = DestinationFactory(account=other)
    client = key_client(user, scopes=["read", "write"], account_id=bound.pk)

    listed = client.get("/api/v1/accounts/").json()["results"]
    assert [a["id"] for a in listed] == [bound.pk]
    assert client.get(f"/api/v1/accounts/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/accounts/{other.pk}/destinations/").status_code == 404
    assert client.get(f"/api/v1/accounts/{other.pk}/logs/").status_code == 404
    response = client.patch(
        f"/api/v1/destinations/{other_destination.pk}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 404
    other_destination.refresh_from_db()
    assert other_destination.is_active
    assert client.get(f"/api/v1/accounts/{bound.pk}/destinations/").status_code == 200
    assert Destination.objects.filter(account=other).count() == 1


def test_a_bound_applications_token_acts_for_its_account_only(user):
    bound = AccountFactory()
    other = AccountFactory()
    MembershipFactory(account=bound, user=user, role=Membership.Role.ADMIN)
    MembershipFactory(account=other, user=user, role=Membership.Role.ADMIN)
    application, secret = make_application(user=user, account_id=bound.pk)
    client = bearer_client(client_credentials_token(application, secret, scope="read"))

    listed = client.get("/api/v1/accounts/").json()["results"]
    assert [a["id"] for a in listed] == [bound.pk]
    assert client.get(f"/api/v1/accounts/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/accounts/{bound.pk}/").status_code == 200


def test_an_unbound_applications_token_acts_as_its_owner(user):
    first = AccountFactory()
    second = AccountFactory()
    MembershipFactory(account=first, user=user, role=Membership.Role.ADMIN)
    MembershipFactory(account=second, user=user)
    application, secret = make_application(user=user)
    client = bearer_client(client_credentials_token(application, secret, scope="read"))

    listed = client.get("/api/v1/accounts/").json()["results"]
    assert sorted(a["id"] for a in listed) == sorted([first.pk, second.pk])
