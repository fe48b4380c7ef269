"""One machine doing the whole job: ingest under load while the worker delivers every event to a
sink answering after 100 ms, against the same ingest with the worker stopped (the reference).

Load: `wrk -t2 -c16` (or the harness's Python loop without wrk) POSTing to
`/api/v1/incoming-data/` with `CL-X-TOKEN`, on gunicorn as the product ships it (gunicorn.conf.py,
2 sync workers), for `--duration` seconds. Rounds alternate: ingest alone (no worker: events
accumulate), then ingest while one Celery worker started as the Procfile does (`--concurrency 2`)
fans out and delivers every accepted event. After a delivering round's load ends, the bench waits
(bounded by `--timeout`) until every event accepted is at the sink: lag = last new delivery − end
of the load (target <= 5 s). Printed: medians of accepted req/s for both, the ratio (target >=
0.7) and the median lag, and the CPU per event accepted during the load of gunicorn's tree, the
worker's tree and the bench database's PostgreSQL backends (/proc, bench/_costs.py), so the cost
of delivering shows beside the noisy ratio.
Run: `make bench BENCH_ARGS="mixed --duration 20 --rounds 3"`.

All events go to one destination, which takes at most DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION
calls at once (64: 640 deliveries a second at 100 ms); with ingest faster than that, the lag grows
with the load's length. `DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION=256 make bench ...` lifts that
ceiling and measures only the sharing of the cores (the summary names the cap it ran with).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time

from bench import _harness as h
from bench import _pipeline as p
from bench._costs import CostMeter, cpu_seconds, cpu_spent, process_tree
from bench._sink import Sink
from bench._wrk import measure, wrk_path

PATH = "/api/v1/incoming-data/"
ACCOUNT = "bench-mixed"
BODY = json.dumps({"event": "bench", "value": 42, "nested": {"a": [1, 2, 3]}})
EVENTS = """
from destinations.models import Event

print(json.dumps(Event.objects.filter(account__name=json.loads(PARAMS)).count()))
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.mixed")
    opt = functools.partial(h.add_option, parser)
    opt("--duration", 20.0, float, "seconds of load per round")
    opt("--rounds", 3, int, "alternating rounds (alone, then delivering)")
    opt("--connections", 16, int, "wrk -c (or loop threads)")
    opt("--wrk-threads", 2, int, "wrk -t")
    opt("--delay-ms", 100.0, float, "sink reply delay", env="BENCH_MIXED_DELAY_MS")
    p.add_worker_options(parser)
    args, _ = parser.parse_known_args(argv)
    return args


def accepted_events(env: dict) -> int:
    code = f"PARAMS = {json.dumps(json.dumps(ACCOUNT))}\n{EVENTS}"
    return int(h.django_eval(env, code))  # type: ignore[arg-type]


def one_round(env: dict, sink: Sink, server: h.ServerProcess, token: str, args, *, deliver: bool):
    p.reset(env)
    p.setup_accounts(env, {ACCOUNT: sink.url})
    sink.reset()
    worker = p.start_worker(env, args, log_name="bench-mixed-worker") if deliver else None
    meter = CostMeter(env["DATABASE_URL"])
    try:
        before = cores_snapshot(meter, server, worker)
        stats = measure(server.base_url + PATH, method="POST", headers={"CL-X-TOKEN": token},
                        body=BODY, threads=args.wrk_threads, connections=args.connections,
                        duration=args.duration)  # fmt: skip
        load_ended = time.time()
        # Taken as the load ends (the worker's tail of deliveries after it is not counted).
        cores = cores_spent(meter, before, cores_snapshot(meter, server, worker), stats.count)
        result = {"rps": stats.rps, "errors": stats.errors, "lag": None, "lost": 0, **cores}
        if worker is not None:
            accepted = accepted_events(env)
            sink.wait_for(accepted, timeout=args.timeout)
            result["lag"] = (sink.last_delivered_at or time.time()) - load_ended
            result["lost"] = accepted - sink.count()
            result["duplicates"] = sink.duplicates
    finally:
        meter.close()
        if worker is not None:
            worker.stop()
    return result


def cores_snapshot(meter: CostMeter, server: h.ServerProcess, worker) -> dict:
    """CPU so far of gunicorn's tree and the bench database's backends (the meter), and of the
    worker's tree."""
    shot = meter.snapshot([server.process.pid])
    shot["worker"] = cpu_seconds(process_tree([worker.process.pid])) if worker else {}
    return shot


def cores_spent(meter: CostMeter, before: dict, after: dict, accepted: int) -> dict:
    """CPU ms per accepted event: web (gunicorn), worker, PostgreSQL (None without it)."""
    cost = meter.delta(before, after)
    worker = cpu_spent(before["worker"], after["worker"])
    events = max(accepted, 1)
    return {
        "web_ms": cost["cpu_ms"] / events,
        "worker_ms": worker * 1000 / events,
        "pg_ms": None if cost["pg_cpu_ms"] is None else cost["pg_cpu_ms"] / events,
    }


def cores_line(runs: list[dict]) -> str:
    """'web 1.20 + worker 0.80 + PostgreSQL 0.40 ms' (medians over the runs)."""
    parts = [("web", "web_ms"), ("worker", "worker_ms"), ("PostgreSQL", "pg_ms")]
    return (
        " + ".join(
            f"{label} {statistics.median(r[key] for r in runs):.2f}"
            for label, key in parts
            if all(r[key] is not None for r in runs)
        )
        + " ms"
    )


def run(argv: list[str]) -> None:
    args = parse(argv)
    env = p.delivery_env(delivery_concurrency=args.delivery_concurrency)
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}; load: "
          f"{'wrk' if wrk_path() else 'Python loop (wrk not installed)'}", flush=True)  # fmt: skip
    h.prepare_database(env)
    alone: list[dict] = []
    delivering: list[dict] = []
    with Sink(delay_ms=args.delay_ms) as sink:
        token = p.setup_accounts(env, {ACCOUNT: sink.url})[ACCOUNT]["token"]
        try:
            with h.start_gunicorn(env, log_name="bench-mixed-gunicorn") as server:
                for number in range(1, max(args.rounds, 1) + 1):
                    for deliver, runs in ((False, alone), (True, delivering)):
                        runs.append(one_round(env, sink, server, token, args, deliver=deliver))
                        r = runs[-1]
                        print(
                            f"round {number} {'delivering' if deliver else 'alone':<10} "
                            f"{h.num(r['rps'])} req/s, errors {r['errors']}"
                            + (f", lag {r['lag']:.2f} s, lost {r['lost']}" if deliver else "")
                            + f", CPU per accepted event: {cores_line([r])}",
                            flush=True,
                        )
        finally:
            p.reset(env)
    rps = statistics.median(r["rps"] for r in delivering)
    ref = statistics.median(r["rps"] for r in alone)
    lag = statistics.median(r["lag"] for r in delivering)
    # One destination takes at most its cap of calls at once: above cap x (1000 / delay) events a
    # second, the backlog grows whatever the engine costs (the lag target then fails first).
    cap = env.get("DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION")
    print(
        f"mixed: ingest while the worker delivers to a {args.delay_ms:g} ms sink {h.num(rps)} "
        f"req/s, last delivery {lag:.2f} s after the load ended (target <= 5 s), lost "
        f"{sum(r['lost'] for r in delivering)}, duplicates "
        f"{sum(r['duplicates'] for r in delivering)} | ingest alone (worker stopped) "
        f"{h.num(ref)} req/s | ratio {h.ratio(rps, ref):.2f} (target >= 0.7; medians of "
        f"{len(alone)} alternating rounds of {args.duration:g} s, {args.connections} connections"
        + (f", destination cap {cap} in flight" if cap else "")
        + ")",
        flush=True,
    )
    # Where the cores go, per event accepted during the load (medians): what the delivering
    # rounds spend beyond the alone rounds is what delivering costs per event while ingesting.
    print(
        f"mixed: CPU per accepted event, ingest alone: {cores_line(alone)} | ingest while "
        f"delivering: {cores_line(delivering)}",
        flush=True,
    )
