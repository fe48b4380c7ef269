"""What a delivery run cost: CPU of the deliverer's process tree and of the bench database's
PostgreSQL backends (/proc/<pid>/stat utime + stime), and the database's committed transactions
(`pg_stat_database.xact_commit`).

    meter = CostMeter(env["DATABASE_URL"])      # None figures on SQLite
    before = meter.snapshot([worker_pid])
    ... deliver N ...
    cost = meter.delta(before, meter.snapshot([worker_pid]))  # {"cpu_ms", "pg_cpu_ms", "xacts"}

Backends are those of `pg_stat_activity` for the bench database (the meter's own excluded); one
that exits between the two snapshots is not counted, so take the second snapshot while the
deliverer still runs. The meter's own queries are subtracted from the transaction count.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()
    return None


def process_tree(roots: list[int]) -> list[int]:
    """The root pids and every live descendant (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], list(roots)
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(parents.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """{pid: utime + stime in seconds} of the pids still alive."""
    out = {}
    for pid in pids:
        if fields := _stat(pid):
            out[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return out


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes of `after` spent since `before` (a new process from zero)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


class CostMeter:
    def __init__(self, database_url: str):
        self.connection = None
        self.queries = 0
        if database_url.startswith(("postgres://", "postgresql://")):
            import psycopg2

            self.connection = psycopg2.connect(database_url)
            self.connection.autocommit = True

    def _query(self, sql: str) -> list[tuple]:
        assert self.connection is not None
        self.queries += 1
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def snapshot(self, roots: list[int]) -> dict:
        shot: dict = {"procs": cpu_seconds(process_tree(roots)), "at": time.monotonic()}
        if self.connection is not None:
            time.sleep(0.6)  # backends publish their counters at most every 0.5 s when idle
            self._query("SELECT pg_stat_clear_snapshot()")
            backends = self._query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            shot["pg"] = cpu_seconds([pid for (pid,) in backends])
            shot["xacts"] = self._query(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            )[0][0]
            shot["queries"] = self.queries
        return shot

    def delta(self, before: dict, after: dict) -> dict:
        out = {
            "cpu_ms": cpu_spent(before["procs"], after["procs"]) * 1000,
            "pg_cpu_ms": None,
            "xacts": None,
        }
        if "pg" in after:
            out["pg_cpu_ms"] = cpu_spent(before["pg"], after["pg"]) * 1000
            own = after["queries"] - before["queries"]
            out["xacts"] = after["xacts"] - before["xacts"] - own
        return out

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def per_delivery(cost: dict, delivered: int) -> str:
    """'CPU 1.20 ms/delivery (worker 0.80 + PostgreSQL 0.40), 0.05 transactions/delivery'."""
    if not delivered:
        return "no deliveries"
    worker = cost["cpu_ms"] / delivered
    if cost["pg_cpu_ms"] is None:
        return f"CPU {worker:.2f} ms/delivery (worker only: PostgreSQL figures need PostgreSQL)"
    pg = cost["pg_cpu_ms"] / delivered
    return (
        f"CPU {worker + pg:.2f} ms/delivery (worker {worker:.2f} + PostgreSQL {pg:.2f}), "
        f"{cost['xacts'] / delivered:.3f} transactions/delivery"
    )
