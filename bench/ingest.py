"""Ingest throughput: accepted `POST /api/v1/incoming-data/` per second, p50/p99 latency.

gunicorn (2 workers) on a free 127.0.0.1 port against the bench database, INGEST_THROTTLE_RATE=none,
16 client threads for `--duration` seconds (default 20). The account has one active destination,
so each call stores an event + a log and publishes a delivery task (no worker runs: the queued
tasks and the bench events are removed afterwards).
Run: `python -m bench ingest` (or `make bench BENCH_ARGS=ingest`).
"""

from __future__ import annotations

import argparse
import os
import subprocess

from bench import _harness as h

PATH = "/api/v1/incoming-data/"
BASELINE_PATH = "/api/"

SETUP = """
from accounts.models import Account
from destinations.models import Destination

account, _ = Account.objects.get_or_create(name="bench-ingest")
account.events.all().delete()
Destination.objects.filter(account=account).delete()
Destination.objects.create(account=account, url="https://93.184.216.34/bench")
print(json.dumps({"token": str(account.app_secret_token)}))
"""

CLEANUP = """
from accounts.models import Account

account = Account.objects.get(name="bench-ingest")
deleted, _ = account.events.all().delete()
print(json.dumps({"deleted": deleted}))
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.ingest")
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 20))
    )
    parser.add_argument("--concurrency", type=int, default=16)
    args, _ = parser.parse_known_args(argv)
    return args


def run(argv: list[str]) -> None:
    args = parse(argv)
    env = h.bench_env("bench", {"INGEST_THROTTLE_RATE": "none"})
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    creds = h.django_eval(env, SETUP)
    try:
        with h.start_gunicorn(env, workers=2) as server:
            # The framework floor on this machine: the same server answering a JSON GET that
            # touches no database, so the ingest figure can be read as a ratio of it.
            baseline = h.load(
                server.base_url + BASELINE_PATH,
                concurrency=args.concurrency,
                duration=args.duration,
            )
            stats = h.load(
                server.base_url + PATH,
                method="POST",
                headers={"CL-X-TOKEN": creds["token"]},
                json_body={"event": "bench", "value": 42, "nested": {"a": [1, 2, 3]}},
                concurrency=args.concurrency,
                duration=args.duration,
            )
        print(baseline.line("baseline"), flush=True)
        print(stats.line("ingest"), flush=True)
        ratio = stats.rps / baseline.rps if baseline.rps else float("nan")
        print(
            f"POST {PATH}, gunicorn 2 workers, concurrency {args.concurrency}, "
            f"{args.duration:g} s, throttle off: {stats.rps:.1f} accepted req/s; "
            f"{ratio:.2f} of GET {BASELINE_PATH} on the same server",
            flush=True,
        )
    finally:
        h.django_eval(env, CLEANUP)
        # The published delivery tasks have no worker here: drop them from the bench broker.
        subprocess.run(
            [h.PYTHON, "-m", "celery", "-A", "backend", "purge", "-f", "-Q", "celery"],
            cwd=h.ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
