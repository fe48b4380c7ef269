"""Fixtures of the endpoints tests: API keys and clients authenticated by key."""

import pytest
from rest_framework.test import APIClient

from endpoints.services import api_key_create


def make_api_key(user, **kwargs):
    """(ApiKey, raw key) created through the service, as the API does."""
    kwargs.setdefault("name", "Test key")
    return api_key_create(user=user, **kwargs)


def key_client(raw: str, header: str = "x-api-key") -> APIClient:
    client = APIClient()
    if header == "x-api-key":
        client.credentials(HTTP_X_API_KEY=raw)
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def api_key(user):
    return make_api_key(user)
