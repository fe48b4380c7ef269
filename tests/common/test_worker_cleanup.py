"""No Celery worker started by a test outlives it: not on failure, not on a pytest-timeout.

Each case runs a tiny pytest session in a subprocess that starts a real worker and then fails
or is killed by pytest-timeout's thread method (which calls os._exit: no finalizer runs).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.worker import group_members, wait_until

ROOT = Path(__file__).resolve().parents[2]

INNER_TEST = """
import os
import time
from pathlib import Path

import pytest

from tests.support.worker import WorkerProcess


@pytest.mark.timeout({timeout}, method="thread")
def test_starts_a_worker_then_{ending}():
    worker = WorkerProcess(Path(os.environ["WORKER_LOG_DIR"]), concurrency=2).start()
    Path(os.environ["WORKER_PGID_FILE"]).write_text(str(worker.pid))
    {ending_code}
"""

ENDINGS = {
    # Fails with the worker running and no fixture to stop it: the registry's atexit does.
    "fails": ("assert False, 'the test fails'", 120),
    # Hangs until pytest-timeout (thread method) calls os._exit: the guard does.
    "times_out": ("time.sleep(600)", 25),
}


@pytest.mark.slow
@pytest.mark.worker
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_no_worker_process_survives_the_session(tmp_path, ending):
    code, timeout = ENDINGS[ending]
    test_file = tmp_path / f"test_inner_{ending}.py"
    test_file.write_text(
        textwrap.dedent(INNER_TEST).format(timeout=timeout, ending=ending, ending_code=code)
    )
    pgid_file = tmp_path / "pgid"
    env = {
        **os.environ,
        "WORKER_LOG_DIR": str(tmp_path),
        "WORKER_PGID_FILE": str(pgid_file),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
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
        timeout=240,
    )
    assert result.returncode != 0, result.stdout
    if ending == "times_out":
        assert "Timeout" in result.stdout + result.stderr
    pgid = int(pgid_file.read_text())
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("worker-*.log"))
    assert " ready." in logs  # the worker really ran
    wait_until(
        lambda: not group_members(pgid),
        timeout=15,
        message=f"worker group {pgid} still alive: {group_members(pgid)}",
    )
