"""Load with `wrk` (apt-get install wrk) when it is installed, else the harness's Python loop.

`measure()` returns an object with the harness Stats interface (rps, p50, p99, count, errors,
line()), so a bench reads the same either way. wrk is given a generated Lua script for the method,
headers and body, and reports through its `done()` hook as one JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass

from bench import _harness as h

DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_path() -> str | None:
    if os.environ.get("BENCH_NO_WRK"):
        return None
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@dataclass
class WrkStats:
    count: int  # answered 2xx/3xx
    errors: int  # 4xx/5xx answers and socket errors
    duration: float
    p50: float
    p99: float

    @property
    def rps(self) -> float:
        return self.count / self.duration if self.duration else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label:<12} {self.rps:8.1f} req/s  p50 {self.p50:7.2f} ms  p99 {self.p99:7.2f} ms  "
            f"n={self.count} errors={self.errors} (wrk)"
        )


def run_wrk(
    url: str,
    *,
    method: str = "GET",
    headers: dict | None = None,
    body: str | None = None,
    threads: int = 2,
    connections: int = 16,
    duration: float = 20,
    timeout: float = 10,
) -> WrkStats:
    lines = [f"wrk.method = {_lua_string(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    for name, value in (headers or {}).items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    h.VAR_DIR.mkdir(exist_ok=True)
    script = h.VAR_DIR / f"bench-wrk-{os.getpid()}.lua"
    script.write_text("\n".join(lines) + "\n" + DONE)
    cmd = [wrk_path() or "wrk", "-t", str(threads), "-c", str(connections),
           "-d", f"{max(round(duration), 1)}s", "--timeout", f"{max(round(timeout), 1)}s",
           "-s", str(script), url]  # fmt: skip
    try:
        result = subprocess.run(
            cmd, capture_output=True, text=True, check=True, timeout=duration + timeout + 30
        )
    finally:
        script.unlink(missing_ok=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("WRKJSON "))
    data = json.loads(line[len("WRKJSON ") :])
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return WrkStats(
        count=data["requests"] - data["status"],
        errors=data["status"] + socket_errors,
        duration=data["duration_us"] / 1e6,
        p50=data["p50_us"] / 1000,
        p99=data["p99_us"] / 1000,
    )


def measure(
    url: str,
    *,
    method: str = "GET",
    headers: dict | None = None,
    body: str | None = None,
    threads: int = 2,
    connections: int = 16,
    duration: float = 20,
):
    """wrk when available, else the harness loop (one thread per connection, 1 s warm-up)."""
    if wrk_path():
        return run_wrk(
            url,
            method=method,
            headers=headers,
            body=body,
            threads=threads,
            connections=connections,
            duration=duration,
        )
    return h.load(
        url,
        method=method,
        headers={**(headers or {}), **({"Content-Type": "application/json"} if body else {})},
        json_body=json.loads(body) if body else None,
        concurrency=connections,
        duration=duration,
    )
