"""Every refusal of the ingest fast path (destinations/ingest_auth.py) holds on the very next
request served by another process: a real gunicorn whose workers warmed the shared cache, with
the change made here (the test process), with the cache up, flushed after the change, and down
for the server (Redis on a closed port: the database decides)."""

import http.client
import json
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.app_tokens import app_token_key
from accounts.member_cache import member_key
from accounts.services import account_secret_rotate, membership_remove
from backend.common.fact_cache import CHANGED
from endpoints.api_key_cache import snapshot_key_for_raw
from endpoints.services import api_key_create, api_key_update
from tests.factories import AccountFactory, MembershipFactory
from tests.support.gunicorn import GunicornProcess
from users.active_cache import active_key
from users.services.tokens import user_logout

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

INGEST = "/api/v1/incoming-data/"
CLOSED_REDIS = "redis://127.0.0.1:2/0"


@dataclass
class Caller:
    """One way of calling ingest, and the change that must refuse it."""

    name: str
    headers: dict
    refused_with: int
    warm_keys: list  # cache keys a served request leaves behind (checked with the cache up)


def post(server: GunicornProcess, headers: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        connection.request(
            "POST",
            INGEST,
            body=json.dumps({"hello": "world"}),
            headers={"Content-Type": "application/json", "Connection": "close", **headers},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def jwt_of(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def server(tmp_path, request):
    env = {"INGEST_THROTTLE_RATE": "none"}
    if request.param == "down":
        env.update(REDIS_URL=CLOSED_REDIS, DEPENDENCY_BREAKER_SECONDS="600")
    server = GunicornProcess(tmp_path, workers=2, extra_env=env, ready_path="/api/")
    server.start()
    yield request.param, server
    server.stop()


@pytest.mark.parametrize("server", ["up", "flushed", "down"], indirect=True)
def test_each_refusal_holds_on_the_next_request_to_another_process(server):
    cache_state, server = server
    account = AccountFactory()
    token = str(account.app_secret_token)

    def member(**kwargs):
        return MembershipFactory(account=account, **kwargs)

    logged_out = member().user
    deactivated = member().user
    removed = member()
    key_owner = member().user
    revoked_key, revoked_raw = api_key_create(
        user=key_owner, name="revoked", account_id=account.pk, scopes=["ingest"]
    )
    narrowed_key, narrowed_raw = api_key_create(
        user=key_owner, name="narrowed", account_id=account.pk, scopes=["ingest"]
    )
    logged_out_access = jwt_of(logged_out)
    with_token = {"CL-X-TOKEN": token}

    def jwt_headers(user, access=None):
        return {"Authorization": f"Token {access or jwt_of(user)}", **with_token}

    def change_logout():
        user_logout(access=logged_out_access, refresh=None)

    def change_deactivate():
        deactivated.is_active = False
        deactivated.save()

    def change_remove():
        membership_remove(membership=removed)

    def change_rotate():
        account_secret_rotate(account=account)

    def change_revoke_key():
        api_key_update(api_key=revoked_key, data={"is_active": False})

    def change_narrow_key():
        api_key_update(api_key=narrowed_key, data={"scopes": ["read"]})

    parsed_token = account.app_secret_token
    removed_user = removed.user
    cases = [
        (
            Caller(
                "logged-out JWT",
                jwt_headers(logged_out, logged_out_access),
                401,
                [active_key(str(logged_out.pk))],
            ),
            change_logout,
        ),
        (
            Caller(
                "deactivated user",
                jwt_headers(deactivated),
                401,
                [active_key(str(deactivated.pk))],
            ),
            change_deactivate,
        ),
        (
            Caller(
                "removed member",
                jwt_headers(removed_user),
                403,
                [member_key(parsed_token, str(removed_user.pk))],
            ),
            change_remove,
        ),
        (
            Caller(
                "revoked API key",
                {"X-API-Key": revoked_raw},
                401,
                [snapshot_key_for_raw(revoked_raw)],
            ),
            change_revoke_key,
        ),
        (
            Caller(
                "API key without the ingest scope",
                {"X-API-Key": narrowed_raw},
                403,
                [snapshot_key_for_raw(narrowed_raw)],
            ),
            change_narrow_key,
        ),
        # Last: the rotation makes the JWT cases above use a token that no longer works.
        (
            Caller("rotated CL-X-TOKEN", with_token, 401, [app_token_key(parsed_token)]),
            change_rotate,
        ),
    ]
    # Creating the rows above marked their answers as changed (the database decides for a while):
    # start from a cache that the server fills with its own answers, as after a quiet spell.
    cache.clear()
    for caller, change in cases:
        # Both workers serve it (and fill the shared cache) before the change.
        assert [post(server, caller.headers) for _ in range(4)] == [200] * 4, caller.name
        if cache_state != "down":
            warm = cache.get_many(caller.warm_keys)
            assert len(warm) == len(caller.warm_keys), f"{caller.name}: cache not warm: {warm}"
            assert CHANGED not in warm.values(), f"{caller.name}: {warm}"
        change()
        if cache_state == "flushed":
            cache.clear()
        statuses = [post(server, caller.headers) for _ in range(4)]
        assert statuses == [caller.refused_with] * 4, f"{caller.name}: {statuses}"
