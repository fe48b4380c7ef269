"""Fixtures of the identity tests: logging in through the real endpoint, token helpers."""

import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def login(client: APIClient, identifier: str, password: str = DEFAULT_PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/token/",
        {"username": identifier, "password": password},
        format="json",
        **extra,
    )


@pytest.fixture
def pair(api_client, user):
    """A token pair from a real login (it carries the login family claim)."""
    response = login(api_client, user.email)
    assert response.status_code == 200, response.content
    return response.json()
