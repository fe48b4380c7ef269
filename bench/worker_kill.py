"""A worker SIGKILLed mid-burst: lost (must be 0), sent twice, and how much later everything was
delivered than in the same burst without a kill (the reference; target <= 10 s later).

N events (default 3,000) are inserted in one transaction for an account whose destination is a
local sink answering after `--delay-ms` (default 20). One Celery worker (Procfile-like,
`--concurrency 2`) delivers them. Reference run: no kill, time from the commit to the last
delivery. Kill run: once `--kill-at` of them (default a third) are delivered, the worker's whole
process group gets SIGKILL (no shutdown code runs); after `--restart-after` seconds (default 3)
a new worker starts and must deliver the rest (the killed one's claims come back when their
leases, DELIVERY_LEASE_SECONDS, expire, or sooner where the engine renews them). Printed: how
much later every id was at the sink, and every log final, than without the kill; the ratio of the
two times. `--rounds` repeats the pair (medians). Run: `make bench BENCH_ARGS="worker_kill"`.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
import uuid

from bench import _harness as h
from bench import _pipeline as p
from bench._sink import Sink

ACCOUNT = "bench-kill"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.worker_kill")
    opt = functools.partial(h.add_option, parser)
    opt("--events", 3000, int, "events in the burst")
    opt("--rounds", 1, int, "pairs of runs (without, then with the kill); medians printed")
    opt("--delay-ms", 20.0, float, "sink reply delay", env="BENCH_KILL_DELAY_MS")
    opt("--kill-at", 0.333, float, "share delivered when the worker is killed")
    opt("--restart-after", 3.0, float, "seconds between the kill and the new worker")
    p.add_worker_options(parser)
    args, _ = parser.parse_known_args(argv)
    return args


def burst(env: dict, sink: Sink, args, *, kill: bool) -> dict:
    p.reset(env)
    account = p.setup_accounts(env, {ACCOUNT: sink.url})[ACCOUNT]
    sink.reset()
    worker = p.start_worker(env, args, log_name="bench-worker-kill")
    restarted = None
    killed_at = None
    committed_at = time.time()
    try:
        prefix = f"wk-{uuid.uuid4().hex[:8]}-"
        committed_at = p.insert_events(env, [(account["account_id"], prefix, args.events)])[0]
        if kill:
            sink.wait_for(max(int(args.events * args.kill_at), 1), timeout=args.timeout)
            worker.kill_group()
            killed_at = time.time()
            delivered_at_kill = sink.count()
            time.sleep(args.restart_after)
            restarted = p.start_worker(env, args, log_name="bench-worker-restarted")
        started = time.monotonic()
        sink.wait_for(args.events, timeout=args.timeout)
        # The sink may have answered calls the killed worker never recorded: those logs stay in
        # progress until their leases expire and are sent again. Done = every log final.
        settled = p.wait_settled(env, args.timeout - (time.monotonic() - started))
        time.sleep(1.0)  # late duplicates still count
    finally:
        worker.stop()
        if restarted is not None:
            restarted.stop()
    last = sink.last_delivered_at or time.time()
    result = {
        "elapsed": last - committed_at,
        "delivered": sink.count(),
        "duplicates": sink.duplicates,
        "requests": sink.requests,
        "statuses": p.log_statuses(env),
        "open": settled["open"],
        "settled_elapsed": settled.get("settled_at", time.time()) - committed_at,
    }
    if kill:
        result.update(
            after_kill=last - killed_at,
            at_kill=delivered_at_kill,
            settled_after_kill=settled.get("settled_at", time.time()) - killed_at,
            last_answer_after_kill=(sink.last_answer_at or time.time()) - killed_at,
        )
    return result


def run(argv: list[str]) -> None:
    args = parse(argv)
    env = p.delivery_env(delivery_concurrency=args.delivery_concurrency)
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    pairs = []
    with Sink(delay_ms=args.delay_ms) as sink:
        try:
            for _ in range(max(args.rounds, 1)):
                reference = burst(env, sink, args, kill=False)
                pairs.append((reference, burst(env, sink, args, kill=True)))
        finally:
            p.reset(env)
    for number, (reference, killed) in enumerate(pairs, 1):
        for label, r in (("reference (no kill)", reference), ("kill", killed)):
            print(
                f"  round {number} {label}: delivered {r['delivered']}/{args.events} in "
                f"{r['elapsed']:.1f} s, sent twice {r['duplicates']}, sink requests "
                f"{r['requests']}, log statuses {r['statuses']}, open logs left {r['open']}",
                flush=True,
            )
        if killed["at_kill"] >= args.events:
            print("  note: the burst was over before the kill; use more events or --delay-ms")

    def med(values) -> float:
        return statistics.median(list(values))

    later = med(k["elapsed"] - r["elapsed"] for r, k in pairs)
    final_later = med(k["settled_elapsed"] - r["settled_elapsed"] for r, k in pairs)
    print(
        f"worker SIGKILL after {med(k['at_kill'] for _, k in pairs):.0f}/{args.events} delivered, "
        f"restart after {args.restart_after:g} s: lost "
        f"{sum(args.events - k['delivered'] for _, k in pairs)} (must be 0), sent twice "
        f"{med(k['duplicates'] for _, k in pairs):.0f}, everything delivered {later:.1f} s later "
        f"than without the kill (target <= 10 s), every log final {final_later:.1f} s later, "
        f"last new delivery {med(k['after_kill'] for _, k in pairs):.1f} s after the kill | "
        f"reference without a kill: every id in {med(r['elapsed'] for r, _ in pairs):.1f} s | "
        f"ratio {h.ratio(med(k['elapsed'] for _, k in pairs), med(r['elapsed'] for r, _ in pairs)):.2f}"
        f" (medians of {len(pairs)}; sink {args.delay_ms:g} ms, worker --concurrency "
        f"{args.worker_concurrency})",
        flush=True,
    )
