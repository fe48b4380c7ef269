"""A hanging destination beside a healthy one: how long account B's events take while account
A's destination never answers, against B's events alone (the reference). Target: <= 3x.

Account A's destination is a sink that reads each request and never answers (the worker waits
for DELIVERY_READ_TIMEOUT, default 15 s, `--read-timeout` to change it); account B's answers at
once. With one Celery worker (Procfile-like, `--concurrency 2`) running, A's `--hang-events`
(default 500) are inserted first, then B's `--healthy-events` (default 100) in a second
transaction; the clock runs from B's commit to B's last delivery. Reference, in the same run: B's
events alone (no A). Ratio = with A hanging / alone.
Run: `make bench BENCH_ARGS="isolation"`.
"""

from __future__ import annotations

import argparse
import functools
import time
import uuid

from bench import _harness as h
from bench import _pipeline as p
from bench._sink import Sink

HANGING, HEALTHY = "bench-iso-hanging", "bench-iso-healthy"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.isolation")
    opt = functools.partial(h.add_option, parser)
    opt("--hang-events", 500, int, "events of the account whose destination hangs (queued first)")
    opt("--healthy-events", 100, int, "events of the healthy account (queued after)")
    opt("--read-timeout", None, float, "worker's DELIVERY_READ_TIMEOUT (None: the product's)",
        env="DELIVERY_READ_TIMEOUT")  # fmt: skip
    p.add_worker_options(parser)
    args, _ = parser.parse_known_args(argv)
    return args


def phase(env: dict, healthy: Sink, hanging: Sink | None, args) -> dict:
    """B's events (after A's, when `hanging` is given) delivered by a fresh worker."""
    p.reset(env)
    urls = {HEALTHY: healthy.url}
    if hanging is not None:
        urls[HANGING] = hanging.url
    accounts = p.setup_accounts(env, urls)
    healthy.reset()
    groups = []
    if hanging is not None:
        hanging.reset()
        groups.append((accounts[HANGING]["account_id"], "iso-a-", args.hang_events))
    run_id = uuid.uuid4().hex[:8]
    groups.append((accounts[HEALTHY]["account_id"], f"iso-b-{run_id}-", args.healthy_events))
    with p.start_worker(env, args, log_name="bench-worker-isolation"):
        try:
            committed = p.insert_events(env, groups)[-1]
            done = healthy.wait_for(args.healthy_events, timeout=args.timeout)
            last = healthy.last_delivered_at if done else time.time()
            result = {
                "elapsed": last - committed,
                "delivered": healthy.count(),
                "duplicates": healthy.duplicates,
                "hanging_requests": hanging.requests if hanging else 0,
            }
        finally:
            if hanging is not None:
                hanging.stop()  # frees the worker's hung calls, so it stops at once
    return result


def run(argv: list[str]) -> None:
    args = parse(argv)
    extra = {"DELIVERY_READ_TIMEOUT": f"{args.read_timeout:g}"} if args.read_timeout else {}
    env = p.delivery_env(delivery_concurrency=args.delivery_concurrency, extra=extra)
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    with Sink(delay_ms=0) as healthy:
        try:
            alone = phase(env, healthy, None, args)
            hanging = Sink(delay_ms=None).start()
            beside = phase(env, healthy, hanging, args)
        finally:
            p.reset(env)
    n = args.healthy_events
    timeout = f"{args.read_timeout:g} s" if args.read_timeout else "DELIVERY_READ_TIMEOUT default"
    print(
        f"isolation: healthy account's {n} events delivered {beside['delivered']}/{n} in "
        f"{beside['elapsed']:.2f} s beside a hanging destination ({args.hang_events} events queued "
        f"first, {beside['hanging_requests']} calls to it hung) | alone {alone['delivered']}/{n} "
        f"in {alone['elapsed']:.2f} s | ratio {h.ratio(beside['elapsed'], alone['elapsed']):.2f} "
        f"(target <= 3; duplicates {beside['duplicates']}; read timeout {timeout}; "
        f"worker --concurrency {args.worker_concurrency})",
        flush=True,
    )
