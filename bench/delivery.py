"""End-to-end delivery to a local sink that answers after `--delay-ms`: delivered/s, lost,
duplicates, CPU ms and transactions per delivery, beside the least-work reference deliverer.

For each delay (default `0,100`), `--rounds` alternating rounds (medians printed):
- **bulk**: N events (default 5,000 at 0 ms, 2,000 otherwise) are inserted in one transaction as
  `Event` rows not fanned out yet; one Celery worker started as the Procfile does
  (`--concurrency 2`) fans them out and delivers them. Clock: from the commit to the last distinct
  delivery. Cost: CPU of the worker's process tree and of the bench database's PostgreSQL
  backends, and committed transactions, from the insert until every log is final
  (bench/_costs.py). `--accounts K` splits them over K accounts with one destination each (one
  destination alone is capped at DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION calls in flight; every
  DELIVERY_* variable in the environment reaches the worker). Lost = events never delivered
  within `--timeout`; duplicates = a webhook-id the sink saw twice (0 expected in a clean run).
- **ingest** (0 ms by default, `--source ingest|bulk|both|auto`): the same N events posted through
  the product's ingest (gunicorn `-w 2`, 16 connections) while the worker delivers; lag = last
  distinct delivery − last accepted POST (target: within 2 s).
- **reference** (PostgreSQL): bench/_reference_deliverer.py delivers the same burst from the same
  tables to the same sink with the least work (2 processes x 256 in flight, `UPDATE ... RETURNING`
  claims, `unnest` writes), measured the same way, with the product's worker stopped; ratios =
  product ÷ reference. On SQLite: a plain asyncio client sending N POSTs (no database).

Run: `make bench BENCH_ARGS="delivery --delay-ms 100 --events 2000 --rounds 3"`.
"""

from __future__ import annotations

import argparse
import functools
import time
import uuid

from bench import _harness as h
from bench import _measured as m
from bench import _pipeline as p
from bench._costs import CostMeter
from bench._sink import Sink

INGEST_PATH = "/api/v1/incoming-data/"
ACCOUNT = "bench-delivery"
SOURCES = ("auto", "bulk", "ingest", "both")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.delivery")
    opt = functools.partial(h.add_option, parser)
    opt("--delay-ms", "0,100", str, "sink reply delays, comma-separated")
    opt("--events", None, int, "events per delay (None: 5,000 at 0 ms, 2,000 otherwise)")
    opt("--source", "auto", str, "auto|bulk|ingest|both (auto: bulk, plus ingest at 0 ms)")
    opt("--reference-concurrency", 256, int, "calls in flight per reference process")
    opt("--reference-processes", 2, int, "reference deliverer processes")
    opt("--rounds", 1, int, "alternating rounds (product, then reference); medians printed")
    opt("--connections", 16, int, "ingest: client connections")
    opt("--workers", 2, int, "ingest: gunicorn --workers")
    opt("--threads", 1, int, "ingest: gunicorn --threads")
    opt("--accounts", 1, int, "bulk: accounts (one destination each) the events are split over")
    p.add_worker_options(parser)
    args, _ = parser.parse_known_args(argv)
    if args.source not in SOURCES:
        parser.error(f"--source must be one of {', '.join(SOURCES)}")
    return args


def sources(args: argparse.Namespace, delay_ms: float) -> list[str]:
    if args.source == "both" or (args.source == "auto" and delay_ms == 0):
        return ["bulk", "ingest"]
    return ["bulk"] if args.source == "auto" else [args.source]


def wait_delivered(sink: Sink, count: int, timeout: float) -> None:
    sink.wait_for(count, timeout=timeout)
    time.sleep(0.5)  # late duplicates still count


def fresh_accounts(env: dict, sink: Sink, count: int) -> list[dict]:
    """Empty pipeline, `count` bench accounts with one sink destination each, sink reset."""
    p.reset(env)
    names = [f"{ACCOUNT}-{i}" for i in range(max(count, 1))]
    accounts = p.setup_accounts(env, dict.fromkeys(names, sink.url))
    sink.reset()
    return [accounts[name] for name in names]


def groups_for(accounts: list[dict], events: int) -> list[tuple[int, str, int]]:
    """The events split evenly across the accounts, distinct ids per run."""
    run_id = uuid.uuid4().hex[:8]
    share, rest = divmod(events, len(accounts))
    groups = [
        (a["account_id"], f"bd-{run_id}-{i}-", share + (1 if i < rest else 0))
        for i, a in enumerate(accounts)
    ]
    return [g for g in groups if g[2]]


def one_delay(env: dict, delay_ms: float, args) -> list[str]:
    events = args.events or (5000 if delay_ms == 0 else 2000)
    meter = CostMeter(env["DATABASE_URL"])
    product: list[dict] = []
    reference: list[dict] = []
    ingest = None
    with Sink(delay_ms=delay_ms) as sink:
        try:
            for _ in range(max(args.rounds, 1)):  # alternating: product, then reference
                with p.start_worker(env, args) as worker:
                    if "bulk" in sources(args, delay_ms):
                        accounts = fresh_accounts(env, sink, args.accounts)
                        groups = groups_for(accounts, events)
                        roots = [worker.process.pid]
                        product.append(m.burst(env, sink, meter, roots, groups, args.timeout))
                        product[-1]["statuses"] = p.log_statuses(env)
                    if "ingest" in sources(args, delay_ms) and ingest is None:
                        accounts = fresh_accounts(env, sink, 1)
                        ingest = ingest_burst(env, sink, accounts[0], events, args)
                        ingest.update(delivered=sink.count(), duplicates=sink.duplicates)
                if meter.connection is not None:
                    accounts = fresh_accounts(env, sink, args.accounts)
                    groups = groups_for(accounts, events)
                    reference.append(m.reference_burst(env, sink, meter, groups, args))
            if meter.connection is None:  # SQLite: the plain asyncio client is the reference
                p.reset(env)
                sink.reset()
                client = p.http_client(sink.url, count=events,
                                       concurrency=args.reference_concurrency,
                                       id_header="webhook-id", id_prefix="ref-")  # fmt: skip
                reference.append({"events": events, "delivered": client["ok"], "duplicates": 0,
                                  "elapsed": client["elapsed"], "open": 0,
                                  "cost": {"cpu_ms": float("nan"), "pg_cpu_ms": None,
                                           "xacts": None}})  # fmt: skip
        finally:
            p.reset(env)
            meter.close()
    ref = m.summary(reference)
    ref_label = (
        f"reference deliverer ({args.reference_processes} processes x "
        f"{args.reference_concurrency} in flight, UPDATE ... RETURNING claims, unnest writes): "
        if meter.connection is not None
        else f"reference asyncio client ({args.reference_concurrency} in flight, no database): "
    ) + m.describe(ref)
    worker = f"worker --concurrency {args.worker_concurrency}" + (
        f", DELIVERY_CONCURRENCY {args.delivery_concurrency}" if args.delivery_concurrency else ""
    )
    cap = env.get("DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION")
    worker += f", {args.accounts} destination(s)" + (f", cap {cap} per destination" if cap else "")
    lines = []
    if product:
        prod = m.summary(product)
        lines.append(
            f"delivery {delay_ms:g} ms [bulk] {h.num(events)} events, median of {prod['runs']}: "
            f"{m.describe(prod)}, open logs {prod['open']} | {ref_label} | "
            f"{m.comparison(prod, ref)} ({worker}; log statuses {product[-1]['statuses']})"
        )
    if ingest is not None:
        rate = ingest["delivered"] / ingest["elapsed"] if ingest["elapsed"] > 0 else 0.0
        lines.append(
            f"delivery {delay_ms:g} ms [ingest] {h.num(ingest['accepted'])} events, "
            f"{h.num(rate)} delivered/s, lost {ingest['accepted'] - ingest['delivered']}, "
            f"duplicates {ingest['duplicates']}, ingest {h.num(ingest['ingest_rps'])} req/s, last "
            f"delivery {ingest['lag']:.2f} s after the last accepted POST (target <= 2 s) | "
            f"reference deliverer (bulk) {h.num(ref['rate'])} delivered/s | ratio "
            f"{h.ratio(rate, ref['rate']):.2f} ({worker})"
        )
    return lines


def ingest_burst(env: dict, sink: Sink, account: dict, events: int, args) -> dict:
    """Posts `events` through the product's ingest while the worker delivers them."""
    with h.start_gunicorn(env, workers=args.workers, threads=args.threads) as server:
        burst = p.http_client(
            server.base_url + INGEST_PATH,
            count=events,
            concurrency=args.connections,
            headers={"CL-X-TOKEN": account["token"]},
            id_header="CL-X-EVENT-ID",
            id_prefix=f"bi-{uuid.uuid4().hex[:8]}-",
        )
        wait_delivered(sink, burst["ok"], args.timeout)
    last = sink.last_delivered_at or time.time()
    return {
        "accepted": burst["ok"],
        "elapsed": last - burst["started_at"],
        "lag": last - burst["last_ok_at"],
        "ingest_rps": burst["ok"] / burst["elapsed"] if burst["elapsed"] else 0.0,
    }


def run(argv: list[str]) -> None:
    args = parse(argv)
    env = p.delivery_env(delivery_concurrency=args.delivery_concurrency)
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    for delay in [float(d) for d in str(args.delay_ms).split(",") if d.strip()]:
        for line in one_delay(env, delay, args):
            print(line, flush=True)
