"""A Redis that stalls (accepts the connection, never answers) costs what a dead one costs: every
request answers within the socket timeouts, none with a 500, and once the breaker has opened the
stalled server is not even dialled.

The cache is pointed at a real 127.0.0.1 TCP server that accepts and stays silent: timeouts, not
the refused connections of tests/common/test_redis_outage.py.
"""

import contextlib
import socket
import threading
import time

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from backend.common.resilience import cache_breaker
from tests.conftest import jwt_client
from tests.factories import DEFAULT_PASSWORD, AccountFactory, MembershipFactory, UserFactory

SOCKET_TIMEOUT = 0.5
BREAKER_FAILURES = 3


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never reads or writes: a stalled Redis."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # the listener closed
            while True:
                connection, _ = self.listener.accept()
                self.accepted.append(connection)  # held open, silent

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()
        self._thread.join(timeout=5)


@pytest.fixture
def stalled_redis():
    server = SilentServer()
    url = f"redis://127.0.0.1:{server.port}/0"
    stalled_cache = {
        "default": {
            "BACKEND": "backend.common.cache.BreakerRedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": SOCKET_TIMEOUT,
            },
        }
    }
    try:
        with override_settings(
            CACHES=stalled_cache,
            REDIS_URL=url,  # the health check's own PING
            REDIS_SOCKET_TIMEOUT=SOCKET_TIMEOUT,
            DEPENDENCY_BREAKER_FAILURES=BREAKER_FAILURES,
            DEPENDENCY_BREAKER_SECONDS=600,  # no retry of the stalled server within the test
        ):
            yield server
    finally:
        server.close()


@pytest.mark.django_db(transaction=True)
def test_requests_answer_within_the_timeouts_when_redis_stalls(stalled_redis):
    user = UserFactory()
    account = AccountFactory()
    MembershipFactory(account=account, user=user)
    jwt = jwt_client(user)
    anonymous = APIClient()
    ingest = APIClient()
    ingest.credentials(HTTP_CL_X_TOKEN=str(account.app_secret_token))

    calls = [
        ("login", lambda: anonymous.post(
            "/api/v1/auth/token/",
            {"username": user.email, "password": DEFAULT_PASSWORD},
            format="json",
        )),
        ("profile", lambda: jwt.get("/api/v1/users/me/")),
        ("ingest", lambda: ingest.post("/api/v1/incoming-data/", {"a": 1}, format="json")),
        ("logs", lambda: jwt.get(f"/api/v1/accounts/{account.pk}/logs/")),
        ("api keys", lambda: jwt.get("/api/v1/api-keys/")),
        ("root", lambda: anonymous.get("/api/")),
    ]  # fmt: skip
    durations = {}
    for name, call in calls:
        started = time.monotonic()
        response = call()
        durations[name] = time.monotonic() - started
        assert response.status_code < 500, (name, response.status_code, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), name
    # The stalled server was really dialled: one connection per call until the breaker opened
    # (each waited SOCKET_TIMEOUT, no retries), then never again.
    assert len(stalled_redis.accepted) == BREAKER_FAILURES
    assert cache_breaker.is_open

    # The health check PINGs Redis itself (no breaker: it must see the truth) and reports it
    # down, as JSON, within the same bounds.
    started = time.monotonic()
    health = anonymous.get("/health/")
    durations["health"] = time.monotonic() - started
    assert health.status_code == 503, health.content
    assert health.json()["status"] == "error"
    assert health.json()["components"]["redis"] is False
    # A hang would last forever (no timeout) or for the retries of every cache call: each request
    # stays within the stalled calls it made plus generous slack for a loaded machine.
    bound = BREAKER_FAILURES * SOCKET_TIMEOUT + 5.0
    assert all(seconds < bound for seconds in durations.values()), durations
