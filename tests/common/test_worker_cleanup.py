"""No Celery worker or gunicorn started by a test outlives it: not on failure, not on a
pytest-timeout.

Each case runs a tiny pytest session in a subprocess that starts a real worker and then fails
or is killed by pytest-timeout's thread method (which calls os._exit: no finalizer runs). The worker
runs on the inner session's test database and VAR_DIR (tests/support/isolation.py), never on the
real database: with the delivery engine on, it would deliver that database's pending webhooks.
"""

import re
import shutil
import textwrap

import pytest

from tests.support.inner_session import (
    assert_test_stores,
    drop_inner_database,
    inner_session_env,
    run_inner_session,
)
from tests.support.worker import group_members, wait_until

INNER_TEST = """
import os
import time
from pathlib import Path

import pytest

from tests.support.gunicorn import GunicornProcess
from tests.support.worker import WorkerProcess


@pytest.mark.timeout({timeout}, method="thread")
def test_starts_a_server_then_{ending}(transactional_db):
    log_dir = Path(os.environ["WORKER_LOG_DIR"])
    if os.environ["SERVER_KIND"] == "worker":
        pid = WorkerProcess(log_dir, concurrency=2).start().pid
    else:
        pid = GunicornProcess(log_dir, workers=2).start().master_pid
    Path(os.environ["WORKER_PGID_FILE"]).write_text(str(pid))
    # The environment the server really runs with, as the kernel holds it.
    environ = Path(f"/proc/{{pid}}/environ").read_bytes()
    Path(os.environ["WORKER_ENV_FILE"]).write_bytes(environ)
    {ending_code}
"""

ENDINGS = {
    # Fails with the worker running and no fixture to stop it: the registry's atexit does.
    "fails": ("assert False, 'the test fails'", 120),
    # Hangs until pytest-timeout (thread method) calls os._exit: the guard does (for gunicorn, the
    # parent-death signal).
    "times_out": ("time.sleep(600)", 25),
}


@pytest.mark.slow
@pytest.mark.worker
@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("kind", ["worker", "gunicorn"])
def test_no_server_process_survives_the_session(tmp_path, request, kind, ending):
    code, timeout = ENDINGS[ending]
    test_file = tmp_path / f"test_inner_{ending}.py"
    test_file.write_text(
        textwrap.dedent(INNER_TEST).format(timeout=timeout, ending=ending, ending_code=code)
    )
    pgid_file = tmp_path / "pgid"
    env_file = tmp_path / "worker-environ"
    env = inner_session_env(
        f"{kind}_{ending}",
        SERVER_KIND=kind,
        WORKER_LOG_DIR=str(tmp_path),
        WORKER_PGID_FILE=str(pgid_file),
        WORKER_ENV_FILE=str(env_file),
    )
    result = run_inner_session(test_file, env)
    assert result.returncode != 0, result.stdout
    if ending == "times_out":
        assert "Timeout" in result.stdout + result.stderr
    pgid = int(pgid_file.read_text())
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))
    assert re.search(r" ready\.|Worker \d+ ready", logs), logs  # the server really ran
    worker_environ = dict(
        line.split("=", 1) for line in env_file.read_text().split("\0") if "=" in line
    )
    # A session killed by pytest-timeout never removes its VAR_DIR: this test does.
    request.addfinalizer(lambda: shutil.rmtree(worker_environ["VAR_DIR"], ignore_errors=True))
    assert_test_stores(worker_environ)
    wait_until(
        lambda: not group_members(pgid),
        timeout=15,
        message=f"{kind} group {pgid} still alive: {group_members(pgid)}",
    )
    drop_inner_database(env)
