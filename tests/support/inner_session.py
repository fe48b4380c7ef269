"""Runs a small pytest session in a subprocess, for tests about what a whole session does (its
cleanup when it fails or is killed, the files and databases it touches)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.session_var_dir import REPO_VAR_DIR
from tests.support.worker import ROOT


def inner_session_env(name: str, **extra: str) -> dict:
    """The outer environment for an inner session. On PostgreSQL the inner session gets a test
    database of its own: by default it would create (and so drop) the outer session's."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    env.pop("VAR_DIR", None)  # the inner session makes its own (tests/support/session_var_dir.py)
    if env.get("DATABASE_URL", "").startswith("postgres"):
        dbname = env["DATABASE_URL"].rsplit("/", 1)[-1].split("?")[0]
        env["TEST_DATABASE_NAME"] = f"test_{dbname}_inner_{name}"
    return env


def run_inner_session(
    test_file: Path, env: dict, timeout: float = 240
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            "-p",
            "no:cacheprovider",
            "-q",
            str(test_file),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_test_stores(child_environ: dict) -> None:
    """A child started by an inner session ran on that session's test database and VAR_DIR:
    never the configured database nor the repository's var/."""
    database_url = child_environ["DATABASE_URL"]
    var_dir = Path(child_environ["VAR_DIR"])
    assert var_dir.name.startswith("backend-test-var-"), var_dir
    assert not var_dir.resolve().is_relative_to(REPO_VAR_DIR), var_dir
    if database_url.startswith("sqlite"):
        database = Path(database_url.removeprefix("sqlite:///"))
        assert database.resolve().is_relative_to(var_dir.resolve()), database_url
        assert database.name.startswith("test"), database_url
    else:
        name = database_url.rsplit("/", 1)[-1]
        assert name.startswith("test_"), database_url
        assert name != os.environ["DATABASE_URL"].rsplit("/", 1)[-1], database_url


def drop_inner_database(env: dict) -> None:
    """Drops the inner session's PostgreSQL test database once its processes are gone (a session
    that failed with a worker still connected, or was killed, could not drop it itself)."""
    name = env.get("TEST_DATABASE_NAME")
    if not name:
        return
    import psycopg2
    from psycopg2 import sql

    url = urlsplit(env["DATABASE_URL"])
    server = psycopg2.connect(
        dbname="postgres",
        user=url.username or "postgres",
        password=url.password or "",
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
    )
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    finally:
        server.close()
