"""A real gunicorn (gunicorn.conf.py) in a child process on a free 127.0.0.1 port, for tests whose
point is the web server: several workers, multiprocess metrics, graceful reloads."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.worker import ROOT, child_process_env, free_port

ACCESS_LOG_FORMAT = "access %(p)s %(m)s %(U)s %(s)s"
READY_LINE = re.compile(r"Worker (\d+) ready$", re.MULTILINE)
ACCESS_LINE = re.compile(r"^access <(\d+)> (\S+) (\S+) (\d+)$", re.MULTILINE)


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
        ready_path: str = "/health/",
    ):
        self.run_dir = run_dir
        self.ready_path = (
            ready_path  # answers 200 once the server serves (/health/ is 503 in an outage)
        )
        self.workers = workers
        self.threads = threads
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.process: subprocess.Popen | None = None

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
            PORT=str(self.port),
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
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.logs()[-4000:]}")
            if len(self.ready_workers() & self.worker_pids()) == self.workers and self.answers():
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
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
