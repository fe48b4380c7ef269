"""Shared fixtures: API clients, users, a tenant trio, the cache and a real Celery worker."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from backend.common.cache import local_fallback_cache
from backend.common.resilience import broker_breaker, cache_breaker
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.broker import broker_unreachable
from tests.support.gunicorn import kill_all_servers
from tests.support.isolation import check_embedded_stores
from tests.support.worker import WorkerProcess, kill_all_workers
from users.authentication import verified_tokens


def pytest_sessionstart(session):
    """No test runs on the embedded files of the checkout (var/): the session must have its own
    VAR_DIR (tests/support/session_var_dir.py, loaded by pyproject's addopts)."""
    check_embedded_stores()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttles, lockouts and the token denylist live in the cache: start every test clean."""
    cache.clear()
    verified_tokens.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _reset_breakers():
    """A test that took Redis or the broker down must not leave the next one short-circuited
    (nor its throttle counts in the per-process fallback cache)."""
    for reset in (cache_breaker.reset, broker_breaker.reset, local_fallback_cache.clear):
        reset()
    yield
    for reset in (cache_breaker.reset, broker_breaker.reset, local_fallback_cache.clear):
        reset()


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def auth_client(user):
    return jwt_client(user)


@pytest.fixture
def other_client(other_user):
    return jwt_client(other_user)


@pytest.fixture
def staff_client(staff_user):
    return jwt_client(staff_user)


@pytest.fixture
def broker_down():
    """Publishing fails for the test's duration, as with a dead broker."""
    with broker_unreachable():
        yield


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real worker child process on the configured broker, seeing the test database.

    Usage: `worker = celery_worker_process()` (or with beat=True, pool=..., concurrency=...).
    Every worker started is stopped at the end of the test.
    """
    from backend.celery import app

    app.control.purge()
    started: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        log_dir = tmp_path / f"worker{len(started) + 1}"  # logs of their own for each worker
        log_dir.mkdir()
        worker = WorkerProcess(log_dir, **kwargs)
        started.append(worker)  # before start: a timeout while it starts still stops it
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            try:
                worker.stop()
            finally:
                worker.kill()


def pytest_sessionfinish(session, exitstatus):
    """Workers and web servers a test left running (interrupted, crashed fixture) die with the
    session."""
    kill_all_workers()
    kill_all_servers()
