"""The shipped gunicorn config restarted for real: a HUP reload holds no request while the new
workers boot, and a stop followed at once by a start comes back by itself (the pidfile of the
master still exiting does not stop the new one)."""

import http.client
import os
import signal
import threading
import time

import pytest

from tests.support.gunicorn import GunicornProcess
from tests.support.worker import wait_until

pytestmark = [pytest.mark.slow]

PAGE = "/api/"  # touches no shared state; the anonymous throttle is raised below
SERVER_ENV = {"ANON_THROTTLE_RATE": "1000000/minute"}
# Before the fix a request waited for a whole worker boot (5.5 s measured on a 2-core machine
# under load, 8 s here once); after it, none waits for a boot. Generous for a busy machine: under
# 2.5 s, or under half the boot when booting itself took that long (the old behaviour fails both).
LONGEST_REQUEST_SECONDS = 2.5


@pytest.fixture
def servers(db, tmp_path):
    started: list[GunicornProcess] = []

    def start(name: str, **kwargs) -> GunicornProcess:
        run_dir = tmp_path / name
        run_dir.mkdir()
        extra_env = {**SERVER_ENV, **kwargs.pop("extra_env", {})}
        server = GunicornProcess(run_dir, extra_env=extra_env, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process and server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGCONT)  # a stopped worker could not exit
        server.stop()


def timed_get(server: GunicornProcess) -> tuple[float, int | str]:
    began = time.monotonic()
    try:
        status: int | str = server.get(PAGE)[0]
    except (OSError, http.client.HTTPException) as exc:
        status = repr(exc)
    return time.monotonic() - began, status


def test_a_hup_reload_holds_no_request_while_the_new_workers_boot(servers):
    server = servers("hup").start()
    old_workers = server.worker_pids()
    samples: list[tuple[float, float, int | str]] = []  # (start, seconds, status)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            began = time.monotonic()
            seconds, status = timed_get(server)
            samples.append((began, seconds, status))
            time.sleep(0.05)

    client = threading.Thread(target=loop)
    client.start()
    try:
        wait_until(lambda: len(samples) >= 5, timeout=30, message="no request answered")
        hup_at = time.monotonic()
        server.process.send_signal(signal.SIGHUP)
        new_workers = wait_until(
            lambda: (
                (pids := server.worker_pids())
                and len(pids) == 2
                and not pids & old_workers
                and pids <= server.ready_workers()
                and pids
            ),
            timeout=60,
            message=f"the workers were not replaced:\n{server.logs()[-3000:]}",
        )
        ready_at = time.monotonic()
        # A few more requests served by the new workers only.
        after = len(samples)
        wait_until(lambda: len(samples) >= after + 5, timeout=30, message="no request after")
    finally:
        stop.set()
        client.join(timeout=60)

    assert all(status == 200 for _, _, status in samples), samples
    longest = max(seconds for _, seconds, _ in samples)
    assert longest < max(LONGEST_REQUEST_SECONDS, (ready_at - hup_at) / 2), (
        f"a request took {longest:.2f} s across the reload (boot took {ready_at - hup_at:.2f} s)"
    )
    during = [s for s in samples if hup_at <= s[0] <= ready_at]
    assert len(during) >= 3, f"the loop did not run across the reload: {samples}"
    assert server.process.poll() is None and new_workers.isdisjoint(old_workers)


def test_a_start_right_after_a_stop_comes_back_by_itself(servers):
    old = servers("old", extra_env={"WEB_GRACEFUL_TIMEOUT": "8"}).start()
    # A worker that cannot finish keeps the old master exiting (and the port held) for the whole
    # graceful timeout: the new master starts while the old one is still there.
    stuck = min(old.worker_pids())
    os.kill(stuck, signal.SIGSTOP)
    os.kill(old.master_pid, signal.SIGTERM)
    new = servers("new", extra_env={"GUNICORN_PIDFILE": str(old.pidfile)}, port=old.port)
    assert old.process.poll() is None  # still exiting
    new.start(timeout=60)  # before the fix: "Already running on PID ..." and exit

    assert new.get(PAGE)[0] == 200
    assert int(old.pidfile.read_text()) == new.master_pid
    wait_until(lambda: old.process.poll() is not None, timeout=30, message="old master stayed")
    assert int(old.pidfile.read_text()) == new.master_pid  # the old master left it alone
    assert "taking over" in new.logs()
