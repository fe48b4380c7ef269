"""A real Celery worker (and optionally beat) in a child process, for tests whose point is the worker.

The child process gets the same settings as the test process but with DATABASE_URL pointing at the
*test* database, so it sees what the test committed (use `transactional_db`), and the session's
VAR_DIR; tests/support/isolation.py refuses to start one on any other database, cache or broker.

No worker outlives the test run: each runs in its own process group under a guard
(worker_guard.py) that kills the group if the test process dies without cleaning up, and every
started worker is in a registry that the session end (tests/conftest.py) and atexit kill.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.support.isolation import check_child_stores
from tests.support.session_var_dir import SESSION_VAR_DIR

ROOT = Path(__file__).resolve().parents[2]
GUARD = Path(__file__).resolve().parent / "worker_guard.py"

# Every worker started and not yet stopped, by process group id.
_running: dict[int, WorkerProcess] = {}


def kill_all_workers() -> None:
    """SIGKILLs every worker group still registered (session end, atexit)."""
    for worker in list(_running.values()):
        worker.kill()


atexit.register(kill_all_workers)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


def test_database_url() -> str:
    """DATABASE_URL of the database the test runner created (test_<name> or the SQLite file)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_process_env() -> dict:
    """The test process's environment for a server child: test settings, the test database, the
    session's embedded files (VAR_DIR), the test's Redis and broker. Refuses (NotATestStore) when
    any of them would not be the test's own."""
    check_child_stores()
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "backend.settings.test"
    env["DATABASE_URL"] = test_database_url()
    env["VAR_DIR"] = str(SESSION_VAR_DIR)
    env.pop("TEST_DATABASE_NAME", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["PYTHONUNBUFFERED"] = "1"
    return env


class WorkerProcess:
    """Starts, stops and kills one `celery worker` child process (its own process group)."""

    def __init__(
        self,
        log_dir: Path,
        *,
        beat: bool = False,
        concurrency: int = 2,
        pool: str = "prefork",
        queues: str | None = None,
        extra_env: dict | None = None,
        loglevel: str = "INFO",
    ):
        self.log_dir = log_dir
        self.loglevel = loglevel
        self.beat = beat
        self.concurrency = concurrency
        self.pool = pool
        self.queues = queues
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.metrics_port: int | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"worker-{self.starts}.log"

    def env(self) -> dict:
        env = child_process_env()
        # The worker's own metrics endpoint, on a port of its own (tests run side by side).
        env["CELERY_METRICS_PORT"] = str(self.metrics_port)
        env["CELERY_METRICS_ADDR"] = "127.0.0.1"
        env["CELERY_METRICS_DIR"] = str(self.log_dir / f"metrics-{self.metrics_port}")
        env.update(self.extra_env)
        return env

    def metrics(self) -> str:
        """The worker's /metrics: the sum over its processes since it started."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        self.starts += 1
        self.metrics_port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backend",
            "worker",
            "-l",
            self.loglevel,
            "--pool",
            self.pool,
            "--concurrency",
            str(self.concurrency),
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test{os.getpid()}-{self.starts}@%h",
        ]
        if self.queues:
            cmd += ["-Q", self.queues]
        if self.beat:
            cmd += [
                "-B",
                # `-S` of `celery worker` is --statedb, not the scheduler: spell it out.
                "--scheduler",
                "celery.beat:PersistentScheduler",
                "-s",
                str(self.log_dir / f"beat-schedule-{self.starts}"),
            ]
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, str(GUARD), str(os.getpid()), *cmd],
            cwd=ROOT,
            env=self.env(),
            stdin=subprocess.DEVNULL,  # never share the test runner's terminal or pipe
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the guard leads a new group: pid == pgid
        )
        _running[self.process.pid] = self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-4000:]}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def _signal_group(self, signum: int) -> None:
        # The group, even when its leader is gone: pool children may outlive it. An empty group's
        # id may be reused by another process one day: only signal a group that has members.
        if self.process.poll() is not None and not group_members(self.process.pid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no acks, as a crashed machine would."""
        if self.process:
            self._signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            _running.pop(self.process.pid, None)

    def stop(self, timeout: float = 6.0) -> None:
        """Warm shutdown; a worker still busy after `timeout` is killed (tests need no drain)."""
        if self.process and self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill()  # whatever is left of the group

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log"))
        )


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2, message: str = ""):
    """Polls `predicate` until it returns a truthy value; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")
