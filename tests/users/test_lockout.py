"""Brute-force protection: per account and per client IP, 429 with Retry-After."""

import re

import pytest
from django.core.cache import cache

from backend.common.resilience import cache_breaker
from tests.factories import UserFactory
from tests.support.worker import wait_until
from tests.users.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.LOGIN_LOCKOUT_ATTEMPTS = 5
    settings.LOGIN_LOCKOUT_IP_ATTEMPTS = 20
    settings.LOGIN_LOCKOUT_SECONDS = 900
    return settings


def test_it_locks_an_account_after_repeated_failures(api_client, user, password, limits):
    for _ in range(5):
        assert login(api_client, user.email, "wrong").status_code == 401
    response = login(api_client, user.email, password)
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"error", "details"}
    assert body["details"] == {}
    wait = re.fullmatch(
        r"Too many failed login attempts\. Try again in (\d+) seconds\.", body["error"]
    )
    assert wait, body["error"]
    retry_after = int(response["Retry-After"])
    assert 890 <= retry_after <= 900
    assert abs(int(wait.group(1)) - retry_after) <= 1  # the message and the header agree
    # Switching between email and username (or case) guesses the same account.
    assert login(api_client, user.username.upper(), password).status_code == 429


def test_it_locks_an_account_from_any_ip(api_client, user, password, limits):
    for i in range(5):
        login(api_client, user.email, "wrong", REMOTE_ADDR=f"10.0.0.{i}")
    assert login(api_client, user.email, password, REMOTE_ADDR="10.9.9.9").status_code == 429


def test_it_does_not_lock_other_accounts(api_client, user, other_user, password, limits):
    for _ in range(5):
        login(api_client, user.email, "wrong")
    assert login(api_client, other_user.email, password).status_code == 200


def test_it_resets_the_account_counter_on_success(api_client, user, password, limits):
    for _ in range(4):
        login(api_client, user.email, "wrong")
    assert login(api_client, user.email, password).status_code == 200
    for _ in range(4):
        assert login(api_client, user.email, "wrong").status_code == 401
    assert login(api_client, user.email, password).status_code == 200


def test_it_counts_unknown_identifiers_like_accounts(api_client, limits):
    for _ in range(5):
        assert login(api_client, "Ghost@Example.com", "wrong").status_code == 401
    assert login(api_client, "ghost@example.com", "wrong").status_code == 429


def test_it_locks_a_client_ip_across_accounts(api_client, password, limits):
    limits.LOGIN_LOCKOUT_IP_ATTEMPTS = 6
    users = UserFactory.create_batch(3)
    for i in range(6):
        login(api_client, users[i % 2].email, "wrong", REMOTE_ADDR="198.51.100.7")
    response = login(api_client, users[2].email, password, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert (
        login(api_client, users[2].email, password, REMOTE_ADDR="198.51.100.8").status_code == 200
    )


def test_it_ignores_x_forwarded_for_unless_the_proxy_is_trusted(api_client, user, password, limits):
    limits.LOGIN_LOCKOUT_IP_ATTEMPTS = 3
    limits.TRUSTED_PROXY_COUNT = 0
    for i in range(3):
        login(api_client, f"nobody{i}@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    # All three came from REMOTE_ADDR 127.0.0.1, whatever the header claimed.
    assert login(api_client, user.email, password).status_code == 429

    cache.clear()
    limits.TRUSTED_PROXY_COUNT = 1
    for i in range(3):
        # The client spoofs the first entry; the trusted proxy appended the real address last.
        forwarded = f"10.10.10.{i}, 203.0.113.5"
        login(api_client, f"nobody{i}@example.com", "wrong", HTTP_X_FORWARDED_FOR=forwarded)
    locked = login(api_client, user.email, password, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5")
    assert locked.status_code == 429
    other = login(api_client, user.email, password, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 200


def test_a_lock_expires_and_then_counts_from_zero(api_client, user, password, limits):
    limits.LOGIN_LOCKOUT_SECONDS = 5
    for _ in range(5):
        assert login(api_client, user.email, "wrong").status_code == 401
    locked = login(api_client, user.email, password)
    assert locked.status_code == 429
    assert 1 <= int(locked["Retry-After"]) <= 5
    # Wait for the state (the lock lifting), bounded; a refused attempt does not extend it.
    wait_until(
        lambda: login(api_client, user.email, "wrong").status_code != 429,
        timeout=30,
        interval=0.5,
        message="the lock never lifted",
    )
    # That first attempt after the lock was a plain failure: the count starts again from it.
    for _ in range(3):
        assert login(api_client, user.email, "wrong").status_code == 401
    assert login(api_client, user.email, password).status_code == 200


UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "backend.common.cache.BreakerRedisCache",
        "LOCATION": "redis://127.0.0.1:2/0",  # nothing listens on port 2
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
}


@pytest.mark.django_db(transaction=True)
def test_the_lockout_still_holds_per_process_with_redis_down(
    api_client, user, other_user, password, limits
):
    limits.CACHES = UNREACHABLE_CACHE
    limits.DEPENDENCY_BREAKER_FAILURES = 3
    limits.DEPENDENCY_BREAKER_SECONDS = 600  # no retry of Redis within the test
    for _ in range(5):
        assert login(api_client, user.email, "wrong").status_code == 401
    locked = login(api_client, user.email, password)
    assert locked.status_code == 429, locked.content
    assert set(locked.json()) == {"error", "details"}
    assert 890 <= int(locked["Retry-After"]) <= 900
    # Another account is not locked, and logs in: no 500 anywhere without Redis.
    assert login(api_client, other_user.email, password).status_code == 200
    assert cache_breaker.is_open  # it really ran without Redis
