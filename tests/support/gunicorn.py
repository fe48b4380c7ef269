"""A real gunicorn (gunicorn.conf.py) in a child process on 127.0.0.1, for tests whose point is the
web server: several workers, multiprocess metrics, graceful reloads.

Like the workers (tests/support/worker.py), no server outlives the test run: the master dies with
the test process (the kernel's parent-death signal, so even a SIGKILLed pytest or pytest-timeout's
os._exit takes it down, and its workers with it), and every server not yet stopped is in a registry
that the session end and atexit kill. The port is the one the kernel gives the listening socket
(port 0, read back from gunicorn's log), so no other bind can take it between a probe and the bind.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from tests.support.isolation import check_child_stores
from tests.support.worker import ROOT, child_process_env, group_members

ACCESS_LOG_FORMAT = "access %(p)s %(m)s %(U)s %(s)s"
READY_LINE = re.compile(r"Worker (\d+) ready$", re.MULTILINE)
ACCESS_LINE = re.compile(r"^access <(\d+)> (\S+) (\S+) (\d+)$", re.MULTILINE)
LISTENING_LINE = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+) ")
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Loaded in the test process: the forked child only makes the call.
_libc = ctypes.CDLL(None, use_errno=True)

# Every server started and not yet stopped, by master pid.
_running: dict[int, GunicornProcess] = {}


def kill_all_servers() -> None:
    """SIGKILLs every server still registered and its workers (session end, atexit)."""
    for server in list(_running.values()):
        server.kill()


atexit.register(kill_all_servers)


def die_with(parent: int):
    """A `preexec_fn`: the child gets SIGTERM (a graceful gunicorn stop) when `parent` dies."""

    def arm() -> None:
        if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
            os._exit(111)
        if os.getppid() != parent:  # it died before the signal was armed
            os._exit(112)

    return arm


def child_pids(parent: int) -> set[int]:
    """Pids of the live (not zombie) children of `parent`, read from /proc."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing paren.
        state, ppid = text.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            children.add(int(stat.parent.name))
    return children


class GunicornProcess:
    """Starts and stops one gunicorn master (its own process group) with the project's config."""

    def __init__(
        self,
        run_dir: Path,
        *,
        workers: int = 2,
        threads: int = 1,
        extra_env=None,
        port: int | None = None,
        ready_path: str = "/health/",
    ):
        self.run_dir = run_dir
        self.ready_path = (
            ready_path  # answers 200 once the server serves (/health/ is 503 in an outage)
        )
        self.workers = workers
        self.threads = threads
        self.extra_env = extra_env or {}
        # None: the kernel picks a free port at bind (read back once the master listens).
        self.requested_port = port
        self.port: int | None = port
        self.process: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.run_dir / "gunicorn.log"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "gunicorn.pid"

    @property
    def metrics_dir(self) -> Path:
        return self.run_dir / "prometheus"

    def env(self) -> dict:
        env = child_process_env()
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.requested_port or 0),
            WEB_CONCURRENCY=str(self.workers),
            WEB_THREADS=str(self.threads),
            PROMETHEUS_MULTIPROC_DIR=str(self.metrics_dir),
            GUNICORN_PIDFILE=str(self.pidfile),
            WEB_ACCESS_LOG="-",
        )
        env.pop("GUNICORN_CMD_ARGS", None)
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> GunicornProcess:
        check_child_stores()  # before anything is opened or spawned
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            "backend.wsgi",
        ]
        env = self.env()
        self.port = self.requested_port
        self._close_log()
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed by stop(), kill()
        self.process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with(os.getpid()),
        )
        _running[self.process.pid] = self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                logs = self.logs()
                self.kill()
                raise RuntimeError(f"gunicorn exited early:\n{logs[-4000:]}")
            if self.port is None:
                listening = LISTENING_LINE.search(self.logs())
                self.port = int(listening.group(1)) if listening else None
            if (
                self.port is not None
                and len(self.ready_workers() & self.worker_pids()) == self.workers
                and self.answers()
            ):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn not ready in {timeout}s:\n{self.logs()[-4000:]}")

    def answers(self) -> bool:
        try:
            return self.get(self.ready_path)[0] == 200
        except OSError:
            return False

    def get(self, path: str) -> tuple[int, bytes]:
        """One request on a fresh connection (closed after it), as a load balancer would send."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request("GET", path, headers={"Connection": "close"})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    @property
    def master_pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> set[int]:
        return child_pids(self.master_pid)

    def ready_workers(self) -> set[int]:
        """Pids of the workers that have loaded the app (gunicorn.conf.py's post_worker_init)."""
        return {int(pid) for pid in READY_LINE.findall(self.logs())}

    def served_by(self, path: str) -> set[int]:
        """Pids of the workers whose access log shows a request to `path`."""
        return {int(pid) for pid, _, url, _ in ACCESS_LINE.findall(self.logs()) if url == path}

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful stop (TERM to the group); a server still up after `timeout` is killed."""
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the master's group (its workers), reap it and close its log."""
        if self.process:
            if self.process.poll() is None or group_members(self.process.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            _running.pop(self.process.pid, None)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
