"""Redis (cache and broker) unreachable: requests still answer, fast, and never 500.

The cache and the broker are pointed at closed ports: real connection failures. What shows that
they fail over fast is the number of connection attempts: after DEPENDENCY_BREAKER_FAILURES
errors in a row the breaker stops trying (no timing assertions).
"""

import time

import pytest
import redis.connection
from django.core import mail
from django.core.cache import caches
from django.test import override_settings
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from backend.common.resilience import (
    BrokerUnavailable,
    DependencyUnavailable,
    broker_breaker,
    cache_breaker,
    publish,
)
from tests.conftest import jwt_client
from tests.factories import DEFAULT_PASSWORD, AccountFactory, MembershipFactory, UserFactory
from tests.support.broker import broker_unreachable

CACHE_PORT = 2  # closed, like the broker's port 1 (tests/support/broker.py)
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "backend.common.cache.BreakerRedisCache",
        "LOCATION": f"redis://127.0.0.1:{CACHE_PORT}/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
}


@pytest.fixture
def connect_attempts(monkeypatch):
    """Redis connection attempts by port (the cache's and the broker's)."""
    attempts: dict[int, int] = {}
    original = redis.connection.Connection._connect

    def counting(self):
        attempts[self.port] = attempts.get(self.port, 0) + 1
        return original(self)

    monkeypatch.setattr(redis.connection.Connection, "_connect", counting)
    return attempts


@pytest.fixture
def redis_down(connect_attempts):
    # A long cooldown, so a slow machine cannot let the breaker retry within the test.
    with (
        override_settings(
            CACHES=UNREACHABLE_CACHE, DEPENDENCY_BREAKER_FAILURES=3, DEPENDENCY_BREAKER_SECONDS=600
        ),
        broker_unreachable(),
    ):
        yield connect_attempts


@pytest.mark.django_db(transaction=True)
def test_requests_answer_without_redis_and_stop_trying_it(redis_down):
    user = UserFactory()
    account = AccountFactory()
    MembershipFactory(account=account, user=user)
    jwt = jwt_client(user)
    anonymous = APIClient()

    login = anonymous.post(
        "/api/v1/auth/token/",
        {"username": user.email, "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert login.status_code == 200, login.content
    assert "access" in login.json()
    assert jwt.get("/api/v1/users/me/").json()["email"] == user.email
    assert jwt.get("/api/v1/api-keys/").status_code == 200
    assert jwt.get(f"/api/v1/accounts/{account.pk}/logs/").status_code == 200
    assert anonymous.get("/api/").status_code == 200
    assert anonymous.get("/api/v1/").status_code == 200
    # Redis was tried until the breaker opened, then no more.
    assert cache_breaker.is_open
    assert redis_down[CACHE_PORT] == 3
    assert cache_breaker.refused > 0


@pytest.mark.django_db(transaction=True)
def test_throttles_still_limit_per_process_without_redis(redis_down):
    limit = int(api_settings.DEFAULT_THROTTLE_RATES["anon"].split("/")[0])
    client = APIClient()
    statuses = [client.get("/api/").status_code for _ in range(limit + 1)]
    assert statuses == [200] * limit + [429]


@pytest.mark.django_db(transaction=True)
def test_a_revoked_token_stays_revoked_without_redis(connect_attempts):
    user = UserFactory()
    refresh = RefreshToken.for_user(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    logout = client.post("/api/v1/auth/logout/", {"refresh": str(refresh)}, format="json")
    assert logout.status_code in (200, 204, 205), logout.content
    with override_settings(CACHES=UNREACHABLE_CACHE, DEPENDENCY_BREAKER_SECONDS=600):
        for _ in range(5):  # before and after the breaker opens: the database answers
            assert client.get("/api/v1/users/me/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_password_reset_mails_inline_and_stops_dialing_the_broker(redis_down):
    user = UserFactory()
    client = APIClient()
    for _ in range(5):
        response = client.post("/api/v1/auth/password/reset/", {"email": user.email}, format="json")
        assert response.status_code == 200
    assert len(mail.outbox) == 5
    assert broker_breaker.is_open
    assert broker_breaker.refused == 2  # the 4th and 5th were not even tried


def test_the_breaker_opens_after_n_failures_and_tries_once_after_the_cooldown(
    settings, connect_attempts
):
    settings.DEPENDENCY_BREAKER_FAILURES = 2
    settings.DEPENDENCY_BREAKER_SECONDS = 600
    with override_settings(CACHES=UNREACHABLE_CACHE):
        cache = caches["default"]
        for _ in range(2):
            with pytest.raises(RedisConnectionError) as raised:
                cache.get("k")
            assert not isinstance(raised.value, DependencyUnavailable)
        with pytest.raises(DependencyUnavailable):
            cache.get("k")
        assert connect_attempts[CACHE_PORT] == 2
        cache_breaker.open_until = time.monotonic() - 1  # the cooldown is over (no sleeping)
        with pytest.raises(RedisConnectionError) as raised:
            cache.get("k")
        assert not isinstance(raised.value, DependencyUnavailable)
        assert connect_attempts[CACHE_PORT] == 3
        assert cache_breaker.is_open  # the trial failed: open again
    cache_breaker.record_success()
    assert not cache_breaker.is_open and cache_breaker.failures == 0


def test_publish_raises_broker_unavailable_and_short_circuits(settings):
    from users.tasks import send_password_reset

    settings.DEPENDENCY_BREAKER_FAILURES = 1
    settings.DEPENDENCY_BREAKER_SECONDS = 600
    with broker_unreachable():
        with pytest.raises(BrokerUnavailable) as first:
            publish(send_password_reset, kwargs={"email": "a@example.com"})
        assert first.value.__cause__ is not None  # really tried
        with pytest.raises(BrokerUnavailable) as second:
            publish("endpoints.run_scheduled_task", args=["x"])
        assert second.value.__cause__ is None  # not tried: the breaker is open
    assert broker_breaker.refused == 1


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_throttle_of_every_app_falls_back_without_redis():
    from pathlib import Path

    from django.urls import get_resolver
    from rest_framework.throttling import BaseThrottle

    from backend.common.throttling import CacheFallbackThrottleMixin

    get_resolver().url_patterns  # imports every view module (and their throttles)
    for throttle in api_settings.DEFAULT_THROTTLE_CLASSES:  # settings name them as strings
        assert issubclass(throttle, CacheFallbackThrottleMixin), throttle
    project = ("users", "accounts", "endpoints", "destinations", "backend")
    for throttle in _all_subclasses(BaseThrottle):
        if throttle.__module__.startswith(project):
            assert issubclass(throttle, CacheFallbackThrottleMixin), throttle
    root = Path(__file__).resolve().parents[2]
    for app in project:
        for source in (root / app).rglob("*.py"):
            if source.parts[-3:-1] == ("backend", "common"):
                continue
            text = source.read_text()
            assert "rest_framework.throttling import" not in text, source
