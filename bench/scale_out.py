"""Scale-out: the product with 1, 2 and 4 engine processes (one `celery worker --concurrency N`:
one engine per prefork child) and two separate worker instances (own `-n` hostnames, as two
machines would run the Procfile), against one PostgreSQL and a sink answering after 100 ms.

Per configuration (`--configs 1,2,4,2x2`: N = one worker with --concurrency N; WxN = W workers
with --concurrency N each):
- **throughput**: `--events` spread over `--destinations` accounts (one destination each, its
  own path at the sink), inserted in one commit: delivered/s, CPU ms per delivery (the workers'
  process trees + the bench database's PostgreSQL backends), transactions per delivery, lost (never
  delivered), sent twice; and the per-destination cap (DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION,
  `--cap`) against the most calls the sink saw open at once on one destination.
- **rate limit**: `--rate-events` events for one destination with `rate_limit` `--rate`/s: the
  most arrivals within any 1 s at the sink (the product counts claims in windows of one second
  from the first claim, so up to 2 x rate may fall within 1 s across a window boundary) and the
  span of the arrivals against the least the limit allows.

The reference is the least-work deliverer (bench/_reference_deliverer.py, 2 processes) on the
same throughput burst; ratios are per configuration. PostgreSQL only (the embedded SQLite default
is one machine by definition). Run: `make bench BENCH_ARGS="scale_out --events 4000"`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import uuid

from bench import _harness as h
from bench import _measured as m
from bench import _pipeline as p
from bench._costs import CostMeter
from bench._sink import Sink

ACCOUNT = "bench-scale"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.scale_out")
    opt = functools.partial(h.add_option, parser)
    opt("--configs", "1,2,4,2x2", str, "engine layouts: N (one worker) or WxN (W workers)")
    opt("--events", 4000, int, "events in the throughput burst")
    opt("--destinations", 4, int, "accounts (one destination each) the burst is split over")
    opt("--delay-ms", 100.0, float, "sink reply delay", env="BENCH_SCALE_DELAY_MS")
    opt("--cap", 64, int, "DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION given to the workers")
    opt("--rate", 20, int, "rate_limit (per second) of the rate-limited destination")
    opt("--rate-events", 60, int, "events for the rate-limited destination (0: no check)")
    opt("--reference-concurrency", 256, int, "calls in flight per reference process")
    opt("--reference-processes", 2, int, "reference deliverer processes")
    opt("--timeout", 300.0, float, "seconds to wait for the deliveries; the rest count as lost")
    args, _ = parser.parse_known_args(argv)
    return args


def layout(config: str) -> tuple[int, int]:
    """'4' → (1 worker, --concurrency 4); '2x2' → (2 workers, 2 each)."""
    workers, _, concurrency = config.partition("x")
    return (int(workers), int(concurrency)) if concurrency else (1, int(workers))


def destinations(env: dict, sink: Sink, count: int) -> list[dict]:
    """Fresh pipeline; `count` accounts with a destination at its own sink path, + one for the
    rate limit (last)."""
    p.reset(env)
    names = [f"{ACCOUNT}-{i}" for i in range(count)] + [f"{ACCOUNT}-rate"]
    accounts = p.setup_accounts(env, {n: f"{sink.url}/{n}" for n in names})
    sink.reset()
    return [{**accounts[n], "path": f"/bench/{n}"} for n in names]


def one_config(env: dict, sink: Sink, meter: CostMeter, config: str, args) -> dict:
    count, concurrency = layout(config)
    accounts = destinations(env, sink, args.destinations)
    throughput, rated = accounts[:-1], accounts[-1]
    p.set_rate_limit(env, rated["destination_id"], args.rate)
    run_id = uuid.uuid4().hex[:6]
    share, rest = divmod(args.events, len(throughput))
    groups = [(a["account_id"], f"so-{run_id}-{i}-", share + (i < rest))
              for i, a in enumerate(throughput)]  # fmt: skip
    with contextlib.ExitStack() as stack:
        workers = [
            stack.enter_context(
                h.start_celery_worker(
                    env,
                    concurrency=concurrency,
                    log_name=f"bench-scale-worker-{i}",
                    node_name=f"bench-scale-{i}-{run_id}@%h",
                )  # fmt: skip
            )
            for i in range(count)
        ]
        roots = [w.process.pid for w in workers]
        result = m.burst(env, sink, meter, roots, [g for g in groups if g[2]], args.timeout)
        result["max_open"] = max(sink.max_open.get(a["path"], 0) for a in throughput)
        if args.rate_events:
            before = sink.count()
            p.insert_events(env, [(rated["account_id"], f"sr-{run_id}-", args.rate_events)])
            sink.wait_for(before + args.rate_events, timeout=args.timeout)
            arrivals = sorted(sink.arrivals.get(rated["path"], []))
            result["rate_window"] = sink.max_in_window(rated["path"])
            result["rate_span"] = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
            result["rate_delivered"] = sink.count() - before
        result["duplicates"] = sink.duplicates
    return result


def reference(env: dict, sink: Sink, meter: CostMeter, args) -> dict:
    accounts = destinations(env, sink, args.destinations)[:-1]
    run_id = uuid.uuid4().hex[:6]
    share, rest = divmod(args.events, len(accounts))
    groups = [(a["account_id"], f"sf-{run_id}-{i}-", share + (i < rest))
              for i, a in enumerate(accounts)]  # fmt: skip
    return m.reference_burst(env, sink, meter, [g for g in groups if g[2]], args)


def run(argv: list[str]) -> None:
    args = parse(argv)
    env = p.delivery_env(extra={"DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION": str(args.cap)})
    if not env["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        print("scale_out needs PostgreSQL (DATABASE_URL): skipped", flush=True)
        return
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    meter = CostMeter(env["DATABASE_URL"])
    try:
        with Sink(delay_ms=args.delay_ms) as sink:
            ref = m.summary([reference(env, sink, meter, args)])
            print(f"reference deliverer: {m.describe(ref)}", flush=True)
            for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
                result = one_config(env, sink, meter, config, args)
                print(line(config, result, ref, args), flush=True)
    finally:
        p.reset(env)
        meter.close()


def line(config: str, result: dict, ref: dict, args) -> str:
    count, concurrency = layout(config)
    label = (f"{count} workers (-n apart) x --concurrency {concurrency}" if count > 1
             else f"1 worker --concurrency {concurrency}")  # fmt: skip
    summary = m.summary([result])
    cap = "holds" if result["max_open"] <= args.cap else "EXCEEDED"
    text = (
        f"scale-out {label} ({count * concurrency} engines), {h.num(args.events)} events over "
        f"{args.destinations} destinations, sink {args.delay_ms:g} ms: {m.describe(summary)}; "
        f"cap {args.cap}/destination {cap} (most open at once {result['max_open']})"
    )
    if args.rate_events:
        least = math.ceil(args.rate_events / args.rate) - 1
        holds = result["rate_window"] <= 2 * args.rate and result["rate_span"] >= least - 0.5
        text += (
            f"; rate limit {args.rate}/s {'holds' if holds else 'EXCEEDED'} "
            f"({result['rate_delivered']}/{args.rate_events} delivered over "
            f"{result['rate_span']:.1f} s, least allowed {least} s; most within 1 s "
            f"{result['rate_window']}, windows allow <= {2 * args.rate})"
        )
    return (
        text
        + f" | reference deliverer {h.num(ref['rate'])} delivered/s | {m.comparison(summary, ref)}"
    )
