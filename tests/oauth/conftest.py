"""Fixtures of the OAuth2 tests: applications (through the service), tokens from the real
token endpoint, and an account whose Admin owns an ingest application."""

import base64
import hashlib
import secrets
from urllib.parse import urlencode

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership
from endpoints.services import oauth_application_create
from tests.factories import AccountFactory, MembershipFactory, UserFactory

TOKEN_URL = "/api/v1/oauth2/token/"
AUTHORIZE_URL = "/api/v1/oauth2/authorize/"
REVOKE_URL = "/api/v1/oauth2/revoke_token/"
INTROSPECT_URL = "/api/v1/oauth2/introspect/"
REDIRECT_URI = "https://client.example.com/callback"


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def make_application(*, user, grant="client-credentials", client_type="confidential", **extra):
    """An application through the service: `(application, raw_client_secret)`."""
    data = {
        "name": f"App {secrets.token_hex(3)}",
        "client_type": client_type,
        "authorization_grant_type": grant,
        **extra,
    }
    account_id = data.pop("account_id", None)
    return oauth_application_create(user=user, data=data, account_id=account_id)


def form_post(url: str, data: dict, client=None, **extra):
    """A POST as OAuth2 clients send it: application/x-www-form-urlencoded."""
    return (client or Client()).post(
        url, urlencode(data), content_type="application/x-www-form-urlencoded", **extra
    )


def client_credentials_token(application, secret: str, scope: str | None = None) -> str:
    body = {"grant_type": "client_credentials"}
    if scope is not None:
        body["scope"] = scope
    response = form_post(
        TOKEN_URL, body, HTTP_AUTHORIZATION=basic_auth(application.client_id, secret)
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def bearer_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def cc_app(owner):
    """A confidential client-credentials application owned by `owner`: (application, secret)."""
    return make_application(user=owner)


@pytest.fixture
def ingest_account(owner):
    account = AccountFactory(created_by=owner)
    MembershipFactory(account=account, user=owner, role=Membership.Role.ADMIN)
    return account


@pytest.fixture
def bound_app(owner, ingest_account):
    """A client-credentials application bound to `ingest_account` (owner is its Admin)."""
    return make_application(user=owner, account_id=ingest_account.pk)
