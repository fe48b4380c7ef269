"""The guard every test-started server (Celery worker, gunicorn) passes before it is spawned: its
database, cache and broker must be the test session's own, never a `make run`'s or production's.

A worker or gunicorn inherits the environment the test hands it; with the delivery engine on, a
worker pointed at a real database would fan out and deliver that database's pending webhooks to
real URLs. So the check is positive (the database IS the test one, the embedded files ARE the
session's), and it fails loudly instead of starting anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from backend import env as backend_env
from tests.support.session_var_dir import REPO_VAR_DIR, SESSION_VAR_DIR

# Django's own prefix for test databases (django.db.backends.base.creation).
TEST_DATABASE_PREFIX = "test_"


class NotATestStore(RuntimeError):
    """A test-started process would have reached a database, cache or broker not the test's."""


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _configured_database_name() -> str:
    """The database DATABASE_URL names: the one the tests run beside, never theirs."""
    url = os.environ.get("DATABASE_URL", "")
    return urlsplit(url).path.lstrip("/") if url else ""


def check_test_database(db: dict[str, Any]) -> None:
    """`db` (a connection's settings_dict) must name the database the test runner created."""
    name = str(db["NAME"])
    test_name = (db.get("TEST") or {}).get("NAME")
    if db["ENGINE"].endswith("sqlite3"):
        if not test_name or name == ":memory:" or "mode=memory" in name:
            raise NotATestStore(f"SQLite {name!r} is not a test database file a child can share")
        if Path(name).resolve() != Path(str(test_name)).resolve():
            raise NotATestStore(f"SQLite {name!r} is not the test database {test_name!r}")
        if not _inside(Path(name), SESSION_VAR_DIR):
            raise NotATestStore(f"SQLite {name!r} is outside the session's VAR_DIR")
        return
    is_test_name = name == test_name if test_name else name.startswith(TEST_DATABASE_PREFIX)
    if not is_test_name or name == _configured_database_name():
        raise NotATestStore(
            f"database {name!r} is not a test database (use the `transactional_db` fixture)"
        )


def check_embedded_stores() -> None:
    """The embedded files (SQLite, file cache, broker folder) are the session's, not `var/`."""
    for var_dir in (os.environ.get("VAR_DIR", ""), str(backend_env.VAR_DIR)):
        if not var_dir or Path(var_dir).resolve() != SESSION_VAR_DIR:
            raise NotATestStore(f"VAR_DIR {var_dir!r} is not the session's {SESSION_VAR_DIR}")
    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("FileBasedCache") and not _inside(
        Path(cache["LOCATION"]), SESSION_VAR_DIR
    ):
        raise NotATestStore(f"file cache {cache['LOCATION']} is outside the session's VAR_DIR")
    folders = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in folders and not _inside(Path(folders[key]), SESSION_VAR_DIR):
            raise NotATestStore(f"broker folder {folders[key]} is outside the session's VAR_DIR")
    if _inside(SESSION_VAR_DIR, REPO_VAR_DIR):
        raise NotATestStore(f"the session's VAR_DIR {SESSION_VAR_DIR} is inside {REPO_VAR_DIR}")


def check_child_stores() -> None:
    """Everything a child process would inherit: the test database and the session's files."""
    check_test_database(connection.settings_dict)
    check_embedded_stores()
