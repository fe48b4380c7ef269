"""Races and outages: one refresh token rotates once; a cache outage never un-revokes a token."""

import threading

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken

from users import services
from users.exceptions import RevocationUnavailable
from users.models import RevokedToken
from users.selectors import token_is_revoked

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


@pytest.mark.django_db(transaction=True)
def test_it_rotates_a_refresh_token_only_once_under_concurrency(user):
    refresh = services.token_pair_for_user(user=user)["refresh"]
    results: list[str] = []
    barrier = threading.Barrier(4)

    def rotate():
        try:
            barrier.wait(timeout=60)
            services.token_refresh(refresh=refresh)
            results.append("rotated")
        except AuthenticationFailed:
            results.append("refused")
        except Exception as exc:  # surfaces in the assertion below instead of a silent thread
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=rotate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert sorted(results) == ["refused", "refused", "refused", "rotated"]
    assert RevokedToken.objects.filter(kind="refresh").count() == 1
    # The losers were treated as reuse: the whole login is revoked.
    assert RevokedToken.objects.filter(kind="family", reason="reuse_detected").count() == 1


@pytest.mark.django_db
def test_it_asks_the_database_when_the_cache_is_down(user):
    pair = services.token_pair_for_user(user=user)
    services.user_logout(access=pair["access"], refresh=None)
    revoked = AccessToken(pair["access"]).payload
    fresh = AccessToken(services.token_pair_for_user(user=user)["access"]).payload
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert token_is_revoked(payload=revoked) is True
        assert token_is_revoked(payload=fresh) is False


@pytest.mark.django_db
def test_it_revokes_nothing_when_the_cache_cannot_record_it(user):
    pair = services.token_pair_for_user(user=user)
    with override_settings(CACHES=UNREACHABLE_REDIS), pytest.raises(RevocationUnavailable):
        services.user_logout(access=pair["access"], refresh=pair["refresh"])
    assert not RevokedToken.objects.exists()
