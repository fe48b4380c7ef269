"""A test session never touches the stores of the checkout it runs in (17.7, 17.8): its embedded
files live under a VAR_DIR of its own, and no worker or gunicorn a test starts reaches a database,
cache or broker that is not the test's."""

import textwrap
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache.backends.filebased import FileBasedCache
from django.db import connection

from backend import env as backend_env
from backend.common import worker_metrics
from tests.support import isolation
from tests.support.gunicorn import GunicornProcess
from tests.support.inner_session import drop_inner_database, inner_session_env, run_inner_session
from tests.support.isolation import NotATestStore, check_child_stores, check_test_database
from tests.support.session_var_dir import REPO_VAR_DIR, SESSION_VAR_DIR
from tests.support.worker import WorkerProcess


def under(path, root: Path) -> bool:
    return Path(path).resolve().is_relative_to(root.resolve())


def test_every_embedded_path_derives_from_the_session_var_dir():
    assert backend_env.VAR_DIR == SESSION_VAR_DIR
    assert SESSION_VAR_DIR.name.startswith("backend-test-var-")
    assert not under(SESSION_VAR_DIR, REPO_VAR_DIR)
    paths = [worker_metrics.metrics_dir(9808), settings.MEDIA_ROOT]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        paths.append(settings.DATABASES["default"]["TEST"]["NAME"])
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        paths.append(settings.CACHES["default"]["LOCATION"])
    paths += [
        folder
        for key, folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items()
        if key.endswith("_folder") or key.startswith("data_folder")
    ]
    for path in paths:
        assert under(path, SESSION_VAR_DIR), path


@pytest.mark.parametrize(
    "database",
    [
        {"ENGINE": "django.db.backends.postgresql", "NAME": "app", "TEST": {}},
        {"ENGINE": "django.db.backends.postgresql", "NAME": "app", "TEST": {"NAME": "test_app"}},
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(REPO_VAR_DIR / "db.sqlite3"),
            "TEST": {"NAME": str(SESSION_VAR_DIR / "test.sqlite3")},
        },
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SESSION_VAR_DIR / "db.sqlite3"),
            "TEST": {"NAME": str(SESSION_VAR_DIR / "test.sqlite3")},
        },
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(REPO_VAR_DIR / "test.sqlite3"),
            "TEST": {"NAME": str(REPO_VAR_DIR / "test.sqlite3")},
        },
        {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:", "TEST": {}},
    ],
)
def test_the_guard_refuses_a_database_that_is_not_the_test_one(database):
    with pytest.raises(NotATestStore):
        check_test_database(database)


def test_the_guard_accepts_the_test_database(transactional_db):
    check_child_stores()


@pytest.mark.parametrize("server", [WorkerProcess, GunicornProcess])
def test_no_server_starts_on_the_configured_database(
    transactional_db, tmp_path, monkeypatch, server
):
    # What a test without the database fixtures sees: the configured (real) database.
    if connection.vendor == "sqlite":
        real = str(SESSION_VAR_DIR / "db.sqlite3")
    else:
        real = settings.DATABASES["default"]["NAME"]
        real = real.removeprefix("test_")
    seen = SimpleNamespace(settings_dict={**connection.settings_dict, "NAME": real})
    monkeypatch.setattr(isolation, "connection", seen)
    process = server(tmp_path)
    with pytest.raises(NotATestStore):
        process.start()
    assert process.process is None  # nothing was spawned


INNER_TEST = """
from django.core.cache import cache

from backend.celery import app
from users.models import User


def test_wipes_its_cache_and_queue_and_writes_its_database(transactional_db):
    cache.set("inner-key", 1)
    cache.clear()
    app.control.purge()
    User.objects.create_user(email="inner@example.com", username="inner", password="x" * 12)
    assert cache.get("inner-key") is None
"""


@pytest.mark.slow
def test_a_test_session_leaves_the_checkouts_var_untouched(tmp_path, request):
    """A whole pytest session that clears its cache, purges its queue and writes its database
    leaves a sentinel cache key and file in the checkout's var/ (a `make run`'s) as they were."""
    REPO_VAR_DIR.mkdir(exist_ok=True)
    token = uuid.uuid4().hex
    sentinel_file = REPO_VAR_DIR / f"isolation-sentinel-{token}"
    sentinel_file.write_text(token)
    request.addfinalizer(lambda: sentinel_file.unlink(missing_ok=True))
    repo_cache = FileBasedCache(str(REPO_VAR_DIR / "cache"), {"KEY_PREFIX": "api"})
    repo_cache.set(f"isolation-sentinel-{token}", token, timeout=600)
    request.addfinalizer(lambda: repo_cache.delete(f"isolation-sentinel-{token}"))
    repo_test_database = REPO_VAR_DIR / "test.sqlite3"
    before = repo_test_database.stat().st_mtime_ns if repo_test_database.exists() else None

    test_file = tmp_path / "test_inner_session.py"
    test_file.write_text(textwrap.dedent(INNER_TEST))
    env = inner_session_env("var")
    result = run_inner_session(test_file, env)
    drop_inner_database(env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert repo_cache.get(f"isolation-sentinel-{token}") == token
    assert sentinel_file.read_text() == token
    after = repo_test_database.stat().st_mtime_ns if repo_test_database.exists() else None
    assert after == before, "the session wrote a test database into the checkout's var/"
