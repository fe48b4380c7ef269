"""Reusable pieces for the benchmarks: a dedicated bench database, servers on free ports, a load loop.

Typical use (see bench/api_keys.py)::

    from bench import _harness as h

    env = h.bench_env()                       # DATABASE_URL of the bench DB, throttles raised
    h.prepare_database(env)                   # create (PostgreSQL) + migrate
    creds = h.django_eval(env, "print(json.dumps({'x': 1}))")   # run code with Django set up
    with h.start_gunicorn(env, workers=2) as server:           # free 127.0.0.1 port
        stats = h.load(f"{server.base_url}/api/v1/users/me/", headers={...},
                       concurrency=8, duration=10)
    print(stats.line("jwt"))

Everything here is bounded in time: servers must answer within `ready_timeout`, load loops stop
after `duration` seconds, child processes are stopped (then killed) on exit.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from bench._options import add_option, env_or, num, ratio  # noqa: F401 - re-exported

ROOT = Path(__file__).resolve().parents[1]
VAR_DIR = ROOT / "var"
PYTHON = sys.executable
# Rates high enough that no throttle takes part in a measurement (DRF rate syntax).
UNTHROTTLED = "1000000/second"


# --- Environment and database ---------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_database_url(name: str = "bench") -> str:
    """URL of the dedicated bench database.

    `BENCH_DATABASE_URL` wins; else with `DATABASE_URL` set, the same PostgreSQL server with the
    database `<dbname>_<name>`; else the SQLite file `var/<name>.sqlite3`.
    """
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(base)
        dbname = parts.path.lstrip("/") or "postgres"
        return urlunsplit(parts._replace(path=f"/{dbname}_{name}"))
    return f"sqlite:///{VAR_DIR / f'{name}.sqlite3'}"


def bench_env(name: str = "bench", extra: dict | None = None) -> dict:
    """Environment for bench child processes: bench database, production-like settings, no throttles.

    Keeps REDIS_URL / CELERY_BROKER_URL / FILE_CACHE_DIR / BROKER_DB_NAME from the caller's
    environment, so a bench runs on the same backend as the tests it sits next to.
    """
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "backend.settings.base",
            "DATABASE_URL": bench_database_url(name),
            "DEBUG": "false",
            "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "ENVIRONMENT": "bench",
            "LOG_LEVEL": "WARNING",
            "SECURE_SSL_REDIRECT": "false",
            "PYTHONUNBUFFERED": "1",
            "ANON_THROTTLE_RATE": UNTHROTTLED,
            "USER_THROTTLE_RATE": UNTHROTTLED,
            "API_KEY_THROTTLE_RATE": UNTHROTTLED,
            "ANON_TASKS_THROTTLE_RATE": UNTHROTTLED,
            "INGEST_THROTTLE_RATE": "none",
            # No access log for either server: writing one line per request to the bench log
            # slowed the reference app down by half over a run, and measured the log, not the app.
            "WEB_ACCESS_LOG": "",
        }
    )
    env.pop("TEST_DATABASE_NAME", None)
    env.update(extra or {})
    return env


def prepare_database(env: dict, timeout: float = 300) -> None:
    """Creates the bench database if needed (PostgreSQL) and applies every migration."""
    for command in (["ensure_database"], ["migrate", "--noinput", "-v0"]):
        subprocess.run(
            [PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=timeout
        )


def django_eval(env: dict, code: str, timeout: float = 120) -> dict:
    """Runs `code` in `manage.py shell` under `env` and returns the JSON it printed last.

    `json` is imported for the code; print exactly one JSON document on the last line.
    """
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", "import json\n" + code],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=timeout,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Child processes -------------------------------------------------------------------------------


class ServerProcess:
    """A child process (its own process group) with a base URL; a context manager that stops it."""

    def __init__(self, cmd: list[str], env: dict, *, port: int | None = None, log_name: str):
        self.cmd = cmd
        self.env = env
        self.port = port
        self.log_path = VAR_DIR / f"{log_name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(
        self,
        *,
        ready_path: str | None = None,
        ready_line: bytes | None = None,
        ready_timeout: float = 60,
    ) -> ServerProcess:
        """Starts the process and waits until `ready_path` answers (HTTP < 500) or `ready_line`
        appears in its log; raises with the log tail otherwise."""
        VAR_DIR.mkdir(exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.cmd[0]} exited early:\n{self.log_tail()}")
            if ready_path is not None:
                try:
                    if requests.get(self.base_url + ready_path, timeout=2).status_code < 500:
                        return self
                except requests.RequestException:
                    pass
            elif ready_line is not None and ready_line in self.log_path.read_bytes():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.cmd[0]} not ready in {ready_timeout}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the process group, SIGKILL it if it has not exited after `timeout` seconds."""
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def kill_group(self) -> None:
        """SIGKILL the whole process group at once (a crash: no shutdown code runs)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_gunicorn(
    env: dict,
    *,
    workers: int = 2,
    threads: int = 1,
    ready_path: str = "/api/v1/health/",
    log_name: str = "bench-gunicorn",
    app: str = "backend.wsgi",
) -> ServerProcess:
    """gunicorn serving `app` (default backend.wsgi) on a free 127.0.0.1 port, ready when
    `ready_path` answers. `threads` > 1 makes gunicorn use its gthread worker, as in production."""
    port = free_port()
    cmd = [
        PYTHON,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    return ServerProcess(cmd, env, port=port, log_name=log_name).start(ready_path=ready_path)


def start_celery_worker(
    env: dict,
    *,
    concurrency: int = 2,
    beat: bool = False,
    pool: str | None = None,
    log_name: str = "bench-worker",
    node_name: str = "",
) -> ServerProcess:
    """A Celery worker (optionally with embedded beat) under `env`, ready when it logs ' ready.'.
    `node_name` (`-n`, default bench<pid>@%h) tells apart workers standing for two machines.

    It is its own process group (with its pool children): `kill_group` SIGKILLs all of it."""
    cmd = [PYTHON, "-m", "celery", "-A", "backend", "worker", "-l", "INFO",
           "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
           "-n", node_name or f"bench{os.getpid()}@%h"]  # fmt: skip
    if pool:
        cmd += ["--pool", pool]
    if beat:
        cmd += ["-B", "--scheduler", "celery.beat:PersistentScheduler",
                "-s", str(VAR_DIR / f"{log_name}-beat-schedule")]  # fmt: skip
    return ServerProcess(cmd, env, log_name=log_name).start(ready_line=b" ready.")


# --- Load loop ------------------------------------------------------------------------------------


@dataclass
class Stats:
    """Outcome of one load run; latencies in milliseconds."""

    count: int
    errors: int
    duration: float
    latencies_ms: list[float] = field(repr=False)
    status_counts: dict[int, int]

    @property
    def rps(self) -> float:
        return self.count / self.duration if self.duration else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    def line(self, label: str) -> str:
        """One human line: label, requests/s, p50, p99, errors and status codes."""
        return (
            f"{label:<12} {self.rps:8.1f} req/s  p50 {self.p50:7.2f} ms  p99 {self.p99:7.2f} ms  "
            f"n={self.count} errors={self.errors} statuses={dict(sorted(self.status_counts.items()))}"
        )


def median_line(label: str, runs: list[Stats]) -> str:
    """Medians over repeated runs: requests/s, p50, p99 (each the median of the runs' figures)."""
    rps = statistics.median(r.rps for r in runs)
    p50 = statistics.median(r.p50 for r in runs)
    p99 = statistics.median(r.p99 for r in runs)
    errors = sum(r.errors for r in runs)
    return (
        f"{label:<12} {rps:8.1f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
        f"(median of {len(runs)} runs, errors={errors})"
    )


def load(
    url: str,
    *,
    method: str = "GET",
    headers: dict | None = None,
    json_body=None,
    concurrency: int = 8,
    duration: float = 10.0,
    warmup: float = 1.0,
    timeout: float = 10.0,
    expect_status: int | tuple[int, ...] = 200,
) -> Stats:
    """Sends the same request from `concurrency` threads (one requests.Session each) for
    `duration` seconds after `warmup` seconds that are not counted.

    A response whose status is not in `expect_status`, or a network error, counts as an error;
    only expected responses contribute latencies.
    """
    expected = (expect_status,) if isinstance(expect_status, int) else tuple(expect_status)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    start_at = time.monotonic() + warmup
    stop_at = start_at + duration

    def worker() -> None:
        nonlocal errors
        session = requests.Session()
        local_lat: list[float] = []
        local_status: Counter[int] = Counter()
        local_errors = 0
        while True:
            t0 = time.monotonic()
            if t0 >= stop_at:
                break
            try:
                response = session.request(
                    method, url, headers=headers, json=json_body, timeout=timeout
                )
                code = response.status_code
            except requests.RequestException:
                code = 0
            t1 = time.monotonic()
            if t0 < start_at:
                continue
            local_status[code] += 1
            if code in expected:
                local_lat.append((t1 - t0) * 1000)
            else:
                local_errors += 1
        session.close()
        with lock:
            latencies.extend(local_lat)
            statuses.update(local_status)
            errors += local_errors

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + duration + timeout + 5)
    return Stats(
        count=len(latencies),
        errors=errors,
        duration=duration,
        latencies_ms=latencies,
        status_counts=dict(statuses),
    )
