"""Every 503 says when to come back (`Retry-After`), also those two that did not: a logout while
Redis is down (the revocation cannot be recorded) and /health/ while the database is down. Real
outages: the cache and the database are pointed at closed ports (or an unopenable SQLite file)."""

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.common.test_database_outage import database_down  # noqa: F401 (fixture)
from tests.common.test_redis_outage import UNREACHABLE_CACHE
from tests.factories import UserFactory
from users.models import RevokedToken

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_logout_while_redis_is_down_is_a_503_with_retry_after_and_revokes_nothing():
    user = UserFactory()
    refresh = RefreshToken.for_user(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    with override_settings(CACHES=UNREACHABLE_CACHE, DEPENDENCY_BREAKER_SECONDS=600):
        response = client.post("/api/v1/auth/logout/", {"refresh": str(refresh)}, format="json")

    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert set(response.json()) == {"error", "details"}
    assert not RevokedToken.objects.exists()  # rolled back: nothing half-revoked


def test_health_while_the_database_is_down_is_a_503_with_retry_after(database_down):  # noqa: F811
    down, up = database_down
    client = APIClient(raise_request_exception=False)
    assert client.get("/health/").status_code == 200
    down()
    response = client.get("/health/")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    up()
    assert client.get("/health/").status_code == 200
    assert connection.is_usable()
