"""The PostgreSQL backend's health check (backend/db_backends/postgresql): skipped for a
connection that served a request without error within the grace, run as Django runs it
otherwise, and a connection that died is replaced either way (at worst after one failed
request inside the grace)."""

import pytest
from django.db import DatabaseError, connection, connections

from backend.db_backends.postgresql import base as grace_backend

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend only"),
]


@pytest.fixture
def wrapper():
    """A connection of its own, outside the test's transaction, used as a request uses one."""
    own = connections.create_connection("default")
    assert own.settings_dict["CONN_HEALTH_CHECKS"] and own.health_check_grace == 1.0
    yield own
    own.close()


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(grace_backend.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def checks(monkeypatch, wrapper):
    calls = []
    real = wrapper.is_usable

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr(wrapper, "is_usable", counting)
    return calls


def request(wrapper) -> int:
    """What Django does around a request that runs one query: returns the backend's pid."""
    wrapper.close_if_unusable_or_obsolete()  # request_started
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    finally:
        wrapper.close_if_unusable_or_obsolete()  # request_finished


def terminate(pid: int) -> None:
    killer = connections.create_connection("default")
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()


def test_within_the_grace_no_check_after_it_one(wrapper, clock, checks):
    pid = request(wrapper)
    clock[0] += 0.5
    assert request(wrapper) == pid and checks == []
    clock[0] += 1.5  # idle past the grace: checked once, as Django would
    assert request(wrapper) == pid and checks == [1]


def test_a_connection_dropped_while_idle_is_replaced_without_a_failed_request(
    wrapper, clock, checks
):
    pid = request(wrapper)
    terminate(pid)
    clock[0] += 2
    assert request(wrapper) != pid


def test_a_connection_dropped_within_the_grace_fails_one_request_then_is_replaced(wrapper, clock):
    pid = request(wrapper)
    terminate(pid)
    with pytest.raises(DatabaseError):
        request(wrapper)
    assert wrapper.connection is None  # closed at the end of the failed request
    assert request(wrapper) != pid
