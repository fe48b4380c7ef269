"""`make run`'s supervisor (backend/supervisor.py), with real child processes: a process that dies
is reported and restarted while the others keep running; one that keeps dying at its start stops
everything with a message naming it; Ctrl-C stops a real Celery worker quickly and cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.worker import ROOT, child_process_env

SUPERVISOR = ROOT / "backend" / "supervisor.py"
PY = sys.executable


def start_supervisor(
    tmp_path: Path, procfile: str, *, cwd: Path | None = None, env: dict | None = None, **overrides
) -> subprocess.Popen:
    """The supervisor on `procfile`, its output in tmp_path/out.log; runs in tmp_path unless
    `cwd` says otherwise, with `env` (default: this process's) plus `overrides`."""
    (tmp_path / "Procfile").write_text(procfile)
    env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1", **overrides}
    return subprocess.Popen(
        [PY, str(SUPERVISOR), str(tmp_path / "Procfile")],
        cwd=cwd or tmp_path,
        env=env,
        stdout=open(tmp_path / "out.log", "wb"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_text(path: Path, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = path.read_text(errors="replace") if path.exists() else ""
        if text in output:
            return output
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not seen in {timeout}s:\n{output[-3000:]}")


def stop(process: subprocess.Popen) -> float:
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return time.monotonic() - began


def test_a_process_that_dies_is_restarted_and_the_others_keep_running(tmp_path):
    marker = tmp_path / "steady.pid"
    procfile = (
        f"steady: {PY} -c \"import os,time; open('{marker}','w').write(str(os.getpid())); "
        f'time.sleep(600)"\n'
        f"crasher: {PY} -c \"import sys,time; print('boom: bad config', flush=True); "
        f'time.sleep(0.3); sys.exit(3)"\n'
    )
    supervisor = start_supervisor(tmp_path, procfile, SUPERVISOR_BACKOFF_SECONDS="0.2")
    try:
        log = tmp_path / "out.log"
        output = wait_for_text(log, "crasher exited with code 3")
        steady_pid = int(marker.read_text())
        assert "boom: bad config" in output  # its last lines are shown before the report
        assert "restarting it in 0.2 s, the others keep running" in output
        # Restarted (a second start of the crasher), while steady is the same process.
        deadline = time.monotonic() + 20
        while log.read_text().count("crasher started") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert log.read_text().count("crasher started") >= 2
        assert int(marker.read_text()) == steady_pid
        os.kill(steady_pid, 0)  # still alive
        assert supervisor.poll() is None
    finally:
        elapsed = stop(supervisor)
    assert supervisor.returncode == 0
    assert elapsed < 3
    assert "steady stopped" in log.read_text()


def test_a_process_that_keeps_dying_at_start_stops_everything_and_says_which(tmp_path):
    procfile = (
        f'steady: {PY} -c "import time; time.sleep(600)"\n'
        f"web: {PY} -c \"import sys; print('port 8018 already in use'); sys.exit(1)\"\n"
    )
    supervisor = start_supervisor(tmp_path, procfile, SUPERVISOR_BACKOFF_SECONDS="0.1")
    try:
        supervisor.wait(timeout=30)
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
    output = (tmp_path / "out.log").read_text()
    assert supervisor.returncode == 1
    assert "web exited with code 1, 5 times in a row right after its start" in output
    assert "stopping everything" in output
    assert "port 8018 already in use" in output
    assert "steady stopped" in output


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_a_real_celery_worker_quickly_without_errors(tmp_path):
    env = child_process_env()
    env.update(CELERY_METRICS_PORT="0", SUPERVISOR_STOP_SECONDS="2.5")
    celery = Path(PY).parent / "celery"
    procfile = f"worker: {celery} -A backend worker -l INFO --concurrency 2\n"
    supervisor = start_supervisor(tmp_path, procfile, cwd=ROOT, env=env)
    try:
        wait_for_text(tmp_path / "out.log", "ready.", timeout=90)
    finally:
        elapsed = stop(supervisor)
    output = (tmp_path / "out.log").read_text()
    assert supervisor.returncode == 0
    # Killed after 2.5 s at the latest; the margin is for a loaded CI machine (about 2 s idle).
    assert elapsed < 3.5
    assert "exited with 'signal 15" not in output
    assert " ERROR " not in output
    assert "No hostname was supplied" not in output  # the old filesystem transport's warning
    assert "worker stopped" in output or "worker still running after" in output
