"""The cache denylist: no database query per request, and nothing forgotten when the cache is."""

import pytest
from django.core.cache import cache
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.users.conftest import bearer, login
from tests.users.test_authentication import assert_401
from users import denylist, services
from users.models import RevokedToken
from users.selectors import token_is_revoked

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


def test_it_checks_without_a_database_query(pair, django_assert_num_queries):
    services.user_logout(access=pair["access"], refresh=None)
    revoked = AccessToken(pair["access"]).payload
    denylist.rebuild()
    with django_assert_num_queries(0):
        assert token_is_revoked(payload=revoked) is True
    user = RevokedToken.objects.get(kind="access").user
    fresh = AccessToken(str(RefreshToken.for_user(user).access_token)).payload
    with django_assert_num_queries(0):
        assert token_is_revoked(payload=fresh) is False


def test_it_survives_losing_the_cache(api_client, user, pair, django_assert_num_queries):
    client = bearer(pair["access"])
    client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    cache.clear()  # Redis restarted or flushed
    assert_401(client.get(ME))
    assert_401(
        api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    )
    # The first check after the loss rebuilt the cache: the next ones are cache-only again.
    assert cache.get(denylist.LOADED_KEY) == 1
    with django_assert_num_queries(0):
        assert token_is_revoked(payload=AccessToken(pair["access"]).payload) is True


def test_it_rebuilds_every_hot_path_kind(user, pair):
    other = RefreshToken.for_user(user).access_token
    services.token_revoke(token=str(other), reason="admin")
    services.user_logout(access=pair["access"], refresh=pair["refresh"])
    cache.clear()
    assert denylist.rebuild() is True
    access_jti = AccessToken(pair["access"])["jti"]
    family = AccessToken(pair["access"])["fam"]
    assert cache.get(denylist.jti_key(access_jti)) == 1
    assert cache.get(denylist.family_key(family)) == 1
    assert cache.get(denylist.jti_key(other["jti"])) == 1
    # Spent refresh tokens stay in the database only.
    assert cache.get(denylist.jti_key(RefreshToken(pair["refresh"])["jti"])) is None


def test_it_rebuilds_once_under_a_lock(user, pair):
    cache.clear()
    cache.add(denylist.REBUILD_LOCK_KEY, 1, 60)  # another process is rebuilding
    assert denylist.rebuild() is False
    services.user_logout(access=pair["access"], refresh=None)
    # Meanwhile requests ask the database, so the revoked token is refused anyway.
    assert token_is_revoked(payload=AccessToken(pair["access"]).payload) is True
    assert cache.get(denylist.LOADED_KEY) is None


def test_it_expires_cache_entries_with_the_token(pair):
    services.user_logout(access=pair["access"], refresh=None)
    key = denylist.jti_key(AccessToken(pair["access"])["jti"])
    if hasattr(cache, "ttl"):  # django-redis
        assert 0 < cache.ttl(key) <= 3600
    assert (
        RevokedToken.objects.get(kind="access").expires_at.timestamp()
        == AccessToken(pair["access"])["exp"]
    )


def test_it_revokes_every_token_of_a_user_but_not_later_logins(api_client, user, pair):
    second = login(api_client, user.email).json()
    legacy = str(RefreshToken.for_user(user).access_token)
    services.user_tokens_revoke_all(user=user)
    for access in (pair["access"], second["access"], legacy):
        assert_401(bearer(access).get(ME))
    assert_401(
        api_client.post(
            "/api/v1/auth/token/refresh/", {"refresh": second["refresh"]}, format="json"
        )
    )
    after = login(api_client, user.email).json()
    assert bearer(after["access"]).get(ME).status_code == 200
    cache.clear()
    assert_401(bearer(pair["access"]).get(ME))
    assert bearer(after["access"]).get(ME).status_code == 200


def test_it_revokes_a_family_for_device_tracking(user, pair):
    family = AccessToken(pair["access"])["fam"]
    services.token_family_revoke(family=family, user=user, reason="device_revoked")
    assert_401(bearer(pair["access"]).get(ME))
