"""What tracing costs an ingest call: CPU per call with tracing off, on, and on with only some
instrumentations, in alternating child processes.

Each child sets up Django as gunicorn's worker does (backend.wsgi), makes `--requests` warm
`CL-X-TOKEN` calls in-process through the WSGI application, flushes the spans still queued and
prints the process's CPU time per call: the request thread and the batch span processor's export
thread together, so the cost of encoding and sending spans counts. The OTLP endpoint is the
ingest bench's local sink (answers and discards), in this parent process.

`--variants off,on` picks what runs: `off` (no endpoint), `on` (as shipped), `requests` (only the
request spans) and `sdk` (the SDK with nothing instrumented).

Run: `.venv/bin/python -m bench._profile_tracing --requests 3000 --rounds 5` (not part of
`make bench`: a profile, not a figure; `make bench BENCH_ARGS="ingest --tracing"` is the figure).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

from bench import _harness as h
from bench._profile_ingest import ingest_through
from bench.ingest import CLEAN, SETUP, otlp_sink

ONLY_VAR = "BENCH_TRACING_ONLY"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench._profile_tracing")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", default="off,on")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return

    env = h.bench_env("bench", {"INGEST_THROTTLE_RATE": "none"})
    h.prepare_database(env)
    creds = h.django_eval(env, SETUP)
    variants = args.variants.split(",")
    results: dict[str, list[float]] = {v: [] for v in variants}
    collections: dict[str, list[float]] = {v: [] for v in variants}
    objects: dict[str, int] = {}
    try:
        with otlp_sink() as endpoint:
            for _ in range(args.rounds):
                for variant in variants:
                    child_env = {**os.environ, **env, "BENCH_TOKEN": creds["token"]}
                    child_env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
                    child_env.pop(ONLY_VAR, None)
                    if variant != "off":
                        child_env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
                    if variant not in ("off", "on"):
                        child_env[ONLY_VAR] = variant
                    out = subprocess.run(
                        [sys.executable, "-m", "bench._profile_tracing", "--child"]
                        + [f"--requests={args.requests}", f"--warmup={args.warmup}"],
                        env=child_env,
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                    figures = json.loads(out.strip().splitlines()[-1])
                    results[variant].append(figures["cpu_us"])
                    collections[variant].append(figures["gc_us"])
                    objects[variant] = figures["objects"]
    finally:
        h.django_eval(env, CLEAN)
    # The lowest round is the least disturbed by the rest of the machine (steal, other work).
    base = min(results["off"]) if "off" in results else None
    for variant, figures in results.items():
        lowest, median = min(figures), statistics.median(figures)
        extra = f", lowest +{lowest - base:.0f} us over off" if base and variant != "off" else ""
        rounds = ", ".join(f"{f:.0f}" for f in figures)
        print(
            f"{variant:>8}: lowest {lowest:.0f}, median {median:.0f} us CPU per call"
            f" (rounds: {rounds}){extra}; of which the garbage collector"
            f" {statistics.median(collections[variant]):.0f} us, {objects[variant]:,} objects"
        )


def child(args: argparse.Namespace) -> None:
    only = os.environ.get(ONLY_VAR)
    if only:
        restrict_instrumentation(only)
    from backend.common import tracing
    from backend.wsgi import application

    gc.freeze()  # as gunicorn.conf.py's post_worker_init does once the app is loaded
    headers = {"HTTP_CL_X_TOKEN": os.environ["BENCH_TOKEN"]}

    def one() -> None:
        ingest_through(application, headers)

    for _ in range(args.warmup):
        one()
    tracing.shutdown()
    gc_time = [0.0, 0.0]

    def time_collections(phase: str, info: dict) -> None:
        if phase == "start":
            gc_time[1] = time.process_time()
        else:
            gc_time[0] += time.process_time() - gc_time[1]

    gc.callbacks.append(time_collections)
    began = time.process_time()
    for _ in range(args.requests):
        one()
    tracing.shutdown()  # the export of this run's spans counts
    cpu_us = (time.process_time() - began) / args.requests * 1e6
    gc_us = gc_time[0] / args.requests * 1e6
    objects = len(gc.get_objects())
    print(json.dumps({"cpu_us": cpu_us, "gc_us": gc_us, "objects": objects}))


def restrict_instrumentation(group: str) -> None:
    """Replaces tracing's instrumentation step with one group's (before Django sets up)."""
    from django.conf import settings

    from backend.common import tracing, tracing_django

    excluded = tracing.DEFAULT_EXCLUDED_URLS

    def instrument_one_group() -> None:
        if group == "requests":
            tracing_django.install(settings, excluded)
            from django.db.backends.signals import connection_created

            connection_created.disconnect(dispatch_uid="tracing.trace_queries")
        elif group != "sdk":
            raise SystemExit(f"unknown group {group}")

    tracing._instrument_libraries = instrument_one_group


if __name__ == "__main__":
    main(sys.argv[1:])
