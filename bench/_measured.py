"""A burst of events delivered and what it cost, for the product's workers and for the reference
deliverer (bench/_reference_deliverer.py) alike: same tables, same sink, same clock.

Clock: from the commit of the events to the last new delivery at the sink. Cost: from just before
the insert until every log is final (see bench/_costs.py), with the deliverer still running.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import time

from bench import _harness as h
from bench import _pipeline as p
from bench._costs import CostMeter
from bench._sink import Sink

UNFINISHED = """
SELECT (SELECT count(*) FROM destinations_deliverylog WHERE account_id = ANY(%(ids)s)
        AND status IN ('pending', 'in_progress'))
     + (SELECT count(*) FROM destinations_event WHERE account_id = ANY(%(ids)s)
        AND fanned_out_at IS NULL)
"""


def wait_final(meter: CostMeter, account_ids: list[int], timeout: float) -> int:
    """Waits (bounded) until the accounts have no unfinished log and no event left to fan out;
    returns how many are left (0 when settled). Without PostgreSQL: 0 at once."""
    if meter.connection is None:
        return 0
    deadline = time.monotonic() + timeout
    while True:
        meter.queries += 1
        with meter.connection.cursor() as cursor:
            cursor.execute(UNFINISHED, {"ids": account_ids})
            left = cursor.fetchone()[0]
        if left == 0 or time.monotonic() >= deadline:
            return left
        time.sleep(0.2)


def burst(
    env: dict,
    sink: Sink,
    meter: CostMeter,
    roots: list[int],
    groups: list[tuple[int, str, int]],
    timeout: float,
) -> dict:
    """Inserts the (account_id, prefix, count) groups, waits for every id at the sink and every log
    final; the CPU of the `roots` process trees and the bench database's backends over that time."""
    events = sum(n for _, _, n in groups)
    before = meter.snapshot(roots)
    committed_at = p.insert_events(env, groups)[-1]
    sink.wait_for(events, timeout=timeout)
    open_left = wait_final(meter, sorted({a for a, _, _ in groups}), timeout)
    cost = meter.delta(before, meter.snapshot(roots))
    last = sink.last_delivered_at or time.time()
    return {
        "events": events,
        "delivered": sink.count(),
        "duplicates": sink.duplicates,
        "requests": sink.requests,
        "elapsed": last - committed_at,
        "open": open_left,
        "cost": cost,
    }


def start_reference(env: dict, account_ids: list[int], args) -> subprocess.Popen:
    """The reference deliverer (`--reference-processes` forked copies) in its own session."""
    cmd = [h.PYTHON, "-m", "bench._reference_deliverer", "--dsn", env["DATABASE_URL"],
           "--accounts", ",".join(map(str, account_ids)),
           "--processes", str(args.reference_processes),
           "--in-flight", str(args.reference_concurrency), "--deadline", str(args.timeout + 60)]  # fmt: skip
    return subprocess.Popen(cmd, cwd=h.ROOT, env=env, start_new_session=True)


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group, SIGKILL it after `timeout` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def reference_burst(env: dict, sink: Sink, meter: CostMeter, groups, args) -> dict:
    """The same burst delivered by the reference deliverer (PostgreSQL only)."""
    process = start_reference(env, sorted({a for a, _, _ in groups}), args)
    try:
        time.sleep(0.5)  # connected and polling before the clock starts
        return burst(env, sink, meter, [process.pid], groups, args.timeout)
    finally:
        stop_process(process)


def rate(result: dict) -> float:
    return result["delivered"] / result["elapsed"] if result["elapsed"] > 0 else 0.0


def cost_per_delivery(result: dict) -> tuple[float, float | None, float | None]:
    """(worker CPU ms, PostgreSQL CPU ms, transactions) per delivery."""
    n = max(result["delivered"], 1)
    cost = result["cost"]
    pg = cost["pg_cpu_ms"] / n if cost["pg_cpu_ms"] is not None else None
    xacts = cost["xacts"] / n if cost["xacts"] is not None else None
    return cost["cpu_ms"] / n, pg, xacts


def summary(results: list[dict]) -> dict:
    """Medians over repeated runs: delivered/s, CPU ms per delivery (worker, PostgreSQL, total),
    transactions per delivery; lost and duplicates summed."""
    costs = [cost_per_delivery(r) for r in results]

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    worker, pg = med(c[0] for c in costs), med(c[1] for c in costs)
    return {
        "rate": statistics.median(rate(r) for r in results),
        "worker_ms": worker,
        "pg_ms": pg,
        "cpu_ms": med(c[0] + c[1] for c in costs if c[1] is not None) or worker,
        "xacts": med(c[2] for c in costs),
        "lost": sum(r["events"] - r["delivered"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "open": sum(r["open"] for r in results),
        "runs": len(results),
    }


def describe(s: dict) -> str:
    """'612 delivered/s, CPU 3.10 ms/delivery (worker 2.00 + PostgreSQL 1.10), 0.310 xacts/...'."""
    text = f"{h.num(s['rate'])} delivered/s, CPU {s['cpu_ms']:.2f} ms/delivery"
    if s["pg_ms"] is not None:
        text += f" (worker {s['worker_ms']:.2f} + PostgreSQL {s['pg_ms']:.2f})"
    else:
        text += " (worker only: PostgreSQL figures need PostgreSQL)"
    if s["xacts"] is not None:
        text += f", {s['xacts']:.3f} transactions/delivery"
    return text + f", lost {s['lost']}, duplicates {s['duplicates']}"


def comparison(product: dict, reference: dict) -> str:
    """The ratios of two summaries: delivered/s, CPU per delivery, transactions per delivery."""
    parts = [f"ratio delivered/s {h.ratio(product['rate'], reference['rate']):.2f}"]
    parts.append(f"CPU per delivery {h.ratio(product['cpu_ms'], reference['cpu_ms']):.1f} x")
    if product["xacts"] is not None and reference["xacts"]:
        parts.append(
            f"transactions per delivery {h.ratio(product['xacts'], reference['xacts']):.1f} x"
        )
    return "; ".join(parts)
