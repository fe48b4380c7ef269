"""A token verified once is not decoded again by the same process, and that memory never lets
through what a fresh verification would refuse: an expired token, a revoked one, a changed
signing key."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken

from tests.users.conftest import bearer
from users import authentication
from users.authentication import VerifiedTokens, verified_tokens

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


@pytest.fixture
def decodes(monkeypatch):
    calls = []
    original = TokenBackend.decode

    def counting(self, token, verify=True):
        calls.append(token)
        return original(self, token, verify)

    monkeypatch.setattr(TokenBackend, "decode", counting)
    return calls


def test_a_token_is_decoded_once_per_process(user, decodes):
    token = str(AccessToken.for_user(user))
    client = bearer(token)
    assert [client.get(ME).status_code for _ in range(3)] == [200, 200, 200]
    assert len(decodes) == 1


def test_a_remembered_token_is_refused_once_it_expires(user, monkeypatch):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(minutes=5))
    client = bearer(str(token))
    assert client.get(ME).status_code == 200
    later = timezone.now() + timedelta(minutes=6)
    monkeypatch.setattr(authentication, "aware_utcnow", lambda: later)
    response = client.get(ME)
    assert response.status_code == 401
    assert verified_tokens.get(str(token).encode()) is None  # forgotten, not kept refused


def test_a_remembered_token_is_refused_once_revoked(user):
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(user)
    client = bearer(str(refresh.access_token))
    assert client.get(ME).status_code == 200
    logout = client.post("/api/v1/auth/logout/", {"refresh": str(refresh)}, format="json")
    assert logout.status_code in (200, 204, 205), logout.content
    assert client.get(ME).status_code == 401


def test_a_remembered_token_of_a_deactivated_or_deleted_user_is_refused(user, other_user):
    clients = [bearer(str(AccessToken.for_user(u))) for u in (user, other_user)]
    assert [c.get(ME).status_code for c in clients] == [200, 200]  # both remembered now
    user.is_active = False
    user.save(update_fields=["is_active"])
    other_user.delete()
    assert [c.get(ME).status_code for c in clients] == [401, 401]


def test_a_change_of_the_signing_settings_forgets_every_remembered_token(user, settings):
    token = str(AccessToken.for_user(user))
    assert bearer(token).get(ME).status_code == 200
    assert verified_tokens.get(token.encode()) is not None
    with override_settings(SIMPLE_JWT={**settings.SIMPLE_JWT, "SIGNING_KEY": "k" * 40}):
        assert verified_tokens.get(token.encode()) is None


def test_the_memory_is_bounded_and_drops_the_least_recently_used():
    memo = VerifiedTokens(size=2)
    first, second, third = (object() for _ in range(3))
    memo.put(b"a", first)
    memo.put(b"b", second)
    memo._tokens.move_to_end(b"a")  # "a" used last
    memo.put(b"c", third)
    assert list(memo._tokens) == [b"a", b"c"]
