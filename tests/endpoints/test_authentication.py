"""API-key authentication, rotation, scopes, per-key rate limit and the last-used guard."""

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from destinations.models import Event
from endpoints.models import ApiKey, ScheduledTask
from endpoints.throttling import ApiKeyRateThrottle
from tests.endpoints.conftest import key_client, make_api_key

pytestmark = pytest.mark.django_db

PROTECTED = "/api/v1/tasks/"


def test_it_authenticates_with_either_header(user):
    _, raw = make_api_key(user)
    assert key_client(raw).get(PROTECTED).status_code == 200
    assert key_client(raw, header="authorization").get(PROTECTED).status_code == 200


def test_it_refuses_unknown_and_malformed_keys_with_401(user):
    key, raw = make_api_key(user)
    wrong_secret = f"{key.prefix}.{'A' * 43}"
    for bad in ("nope", f"{key.prefix}.", ".secret", wrong_secret, "x" * 500):
        response = key_client(bad).get(PROTECTED)
        assert response.status_code == 401, bad
        assert response.json()["error"] == "Invalid API key."
        assert bad not in response.content.decode()
    response = key_client(raw).get(PROTECTED)
    assert response.status_code == 200


def test_it_refuses_expired_inactive_and_orphaned_keys(user):
    key, raw = make_api_key(user)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert key_client(raw).get(PROTECTED).json()["error"] == "This API key has expired."
    ApiKey.objects.filter(pk=key.pk).update(expires_at=None, is_active=False)
    response = key_client(raw).get(PROTECTED)
    assert response.status_code == 401
    assert response.json()["error"] == "This API key is inactive."
    ApiKey.objects.filter(pk=key.pk).update(is_active=True)
    user.is_active = False
    user.save()
    assert key_client(raw).get(PROTECTED).status_code == 401


def test_it_invalidates_the_old_key_at_once_on_regenerate(auth_client, user):
    key, old = make_api_key(user)
    assert key_client(old).get(PROTECTED).status_code == 200
    response = auth_client.post(f"/api/v1/api-keys/{key.pk}/regenerate/")
    assert response.status_code == 200
    new = response.json()["key"]
    assert new != old
    assert response.json()["prefix"] == new.split(".")[0]
    assert key_client(old).get(PROTECTED).status_code == 401
    assert key_client(new).get(PROTECTED).status_code == 200


def test_it_keeps_the_old_key_working_during_the_grace_period(auth_client, user):
    key, old = make_api_key(user)
    response = auth_client.post(
        f"/api/v1/api-keys/{key.pk}/regenerate/", {"grace_period_seconds": 3600}, format="json"
    )
    assert response.status_code == 200
    new = response.json()["key"]
    assert response.json()["previous_key_expires_at"] is not None
    assert key_client(old).get(PROTECTED).status_code == 200
    assert key_client(new).get(PROTECTED).status_code == 200
    # Once the grace period is over, the old key is refused.
    ApiKey.objects.filter(pk=key.pk).update(
        previous_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert key_client(old).get(PROTECTED).status_code == 401
    assert key_client(new).get(PROTECTED).status_code == 200


def test_it_enforces_scopes(user):
    _, read_only = make_api_key(user, scopes=["read"])
    client = key_client(read_only)
    assert client.get(PROTECTED).status_code == 200
    response = client.post(PROTECTED, {"name": "t"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == 'This API key lacks the "write" scope.'
    _, ingest_only = make_api_key(user, scopes=["ingest"])
    assert key_client(ingest_only).get(PROTECTED).status_code == 403
    _, read_write = make_api_key(user)
    response = key_client(read_write).post(PROTECTED, {"name": "t"}, format="json")
    assert response.status_code == 201


def test_it_applies_the_per_key_rate_limit(user):
    _, limited = make_api_key(user, rate_limit="2/minute")
    _, other = make_api_key(user)
    client = key_client(limited)
    assert [client.get(PROTECTED).status_code for _ in range(3)] == [200, 200, 429]
    response = client.get(PROTECTED)
    assert response.status_code == 429
    assert response.has_header("Retry-After")
    # Another key of the same user has its own budget.
    assert key_client(other).get(PROTECTED).status_code == 200


def test_it_uses_the_default_key_rate_when_the_key_has_none(user, settings):
    # The configured default (API_KEY_THROTTLE_RATE), not the class's copy of it: a key with no
    # rate of its own is limited at exactly that rate.
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"] == "1000/minute"
    assert ApiKeyRateThrottle().rate == "1000/minute"
    _, unlimited = make_api_key(user)
    with patch.dict(ApiKeyRateThrottle.THROTTLE_RATES, {"api_key": "2/minute"}):
        client = key_client(unlimited)
        assert [client.get(PROTECTED).status_code for _ in range(3)] == [200, 200, 429]


def test_it_writes_last_used_at_at_most_once_per_interval(user):
    key, raw = make_api_key(user)
    client = key_client(raw)
    assert client.get(PROTECTED).status_code == 200
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get(PROTECTED).status_code == 200
    assert not [q for q in queries.captured_queries if q["sql"].upper().startswith("UPDATE")]
    key.refresh_from_db()
    assert key.last_used_at == first


def test_it_finds_keys_by_raw_value(user):
    key, raw = make_api_key(user)
    assert ApiKey.objects.for_key(raw) == key
    assert ApiKey.objects.for_key(raw + "x") is None
    assert ApiKey.objects.for_key("") is None


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_x_api_key_is_a_clear_401_and_changes_nothing(user, value):
    # An empty header is a credential sent wrong, not a missing one: its own message (SPEC 10:
    # 401 JSON with WWW-Authenticate, never a 500 or a 403).
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=value)
    for response in (
        client.get(PROTECTED),
        client.post(PROTECTED, {"name": "t", "task_type": "add"}, format="json"),
        client.post("/api/v1/incoming-data/", {"a": 1}, format="json"),
    ):
        assert response.status_code == 401, response.content
        assert response.json() == {"error": "Empty X-API-Key header.", "details": {}}
        assert response["WWW-Authenticate"]
    assert not ScheduledTask.objects.exists()
    assert not Event.objects.exists()
