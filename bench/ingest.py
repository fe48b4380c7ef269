"""Ingest: accepted `POST /api/v1/incoming-data/` per second and p50/p99, against a bare-Django
reference app doing the same durable work (bench/_reference_app.py: one SQL lookup of the
CL-X-TOKEN, one raw INSERT into the same `destinations_event` table, the same JSON answer).

Every documented way of calling ingest is measured beside the reference: `CL-X-TOKEN` alone,
seed 003's curl (`Authorization: Token <JWT of a member>` + `CL-X-TOKEN`), and an API key with
the `ingest` scope (`X-API-Key`). Both servers are gunicorn started in the project folder, so with
the shipped `gunicorn.conf.py` (`--workers 2`, sync; `--threads N` switches both to gthread), on
the bench database, throttle off, no worker (events stay un-fanned-out and are deleted between
runs). The product keeps the shipped access log (`--access-log off` turns it off, to measure what
it costs); the reference writes none (it is the limit). Load: `wrk -t2 -c16 -d20s` with a Lua
script (POST, headers, JSON body), or the harness's Python loop when wrk is missing. Rounds
alternate reference, each call, reference, ... (`--rounds 3`); the summary gives medians, the
ratio product/reference and the p99 ratio (targets: CL-X-TOKEN >= 0.8, the others >= 0.7 (goal
0.8), p99 <= 2x the reference's). Also measured: `GET /api/` on the product server (touches
nothing: the framework floor).

`--tracing` adds a second product server with OpenTelemetry on (`OTEL_EXPORTER_OTLP_ENDPOINT`
pointing at a local OTLP/HTTP sink of this bench that answers and discards), in every round
beside the others: tracing on vs off (target: on costs at most 10 %).

`--configs 2x1,2x4,3x1,4x1` (workers x threads) measures product gunicorn configurations instead,
each in every round beside the reference (at `--workers`/`--threads`), to choose the Procfile's.
Run: `make bench BENCH_ARGS="ingest --duration 20"`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import statistics
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import _harness as h
from bench._costs import cpu_seconds, cpu_spent, process_tree
from bench._wrk import measure, wrk_path

PATH = "/api/v1/incoming-data/"
FLOOR_PATH = "/api/"
ACCOUNT = "bench-ingest"
BODY = json.dumps({"event": "bench", "value": 42, "nested": {"a": [1, 2, 3]}})

SETUP = """
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
from accounts.models import Account, Membership
from endpoints.services import api_key_create

account, _ = Account.objects.get_or_create(name="bench-ingest")
User = get_user_model()
user = User.objects.filter(email="bench-ingest@example.com").first()
if user is None:
    user = User.objects.create_user(
        email="bench-ingest@example.com", username="bench-ingest", password=None
    )
Membership.objects.get_or_create(
    user=user, account=account, defaults={"role": Membership.Role.NORMAL_USER}
)
user.api_keys.all().delete()
_, api_key = api_key_create(user=user, name="bench-ingest", account_id=account.pk, scopes=["ingest"])
print(json.dumps({"token": str(account.app_secret_token),
                  "jwt": str(RefreshToken.for_user(user).access_token),
                  "api_key": api_key}))
"""

CLEAN = """
from django.db import connection
from accounts.models import Account
from destinations.models import Event

account = Account.objects.get(name="bench-ingest")
with connection.cursor() as cursor:
    cursor.execute(f"DELETE FROM {Event._meta.db_table} WHERE account_id = %s", [account.pk])
    deleted = cursor.rowcount
print(json.dumps({"deleted": deleted}))
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.ingest")
    opt = functools.partial(h.add_option, parser)
    opt("--duration", 20.0, float, "seconds per load run")
    opt("--connections", 16, int, "wrk -c (or loop threads)")
    opt("--wrk-threads", 2, int, "wrk -t")
    opt("--rounds", 3, int, "alternating rounds")
    opt("--workers", 2, int, "gunicorn --workers of both servers")
    opt("--threads", 1, int, "gunicorn --threads of both servers (>1: gthread)")
    opt("--warmup", 2.0, float, "seconds of load per server before the rounds")
    opt("--floor-rounds", 1, int, "runs of GET /api/")
    opt(
        "--access-log",
        "shipped",
        str,
        "product server's access log: shipped (gunicorn.conf.py) or off",
    )
    opt("--calls", "ingest,ingest+jwt,ingest+apikey", str, "which documented calls to measure")
    opt("--tracing", False, bool, "also a product server with tracing on (local OTLP sink)")
    opt("--configs", "", str, "product gunicorn workers x threads to compare, e.g. 2x1,2x4,3x1")
    args, _ = parser.parse_known_args(argv)
    return args


class Runner:
    def __init__(self, env: dict, creds: dict, args: argparse.Namespace):
        self.env, self.args = env, args
        self.headers = {"CL-X-TOKEN": creds["token"]}
        # The three documented calls, labelled as the summary prints them.
        self.calls = {
            "ingest": self.headers,
            "ingest+jwt": {**self.headers, "Authorization": f"Token {creds['jwt']}"},
            "ingest+apikey": {"X-API-Key": creds["api_key"]},
        }
        chosen = [name.strip() for name in args.calls.split(",") if name.strip()]
        unknown = set(chosen) - set(self.calls)
        if unknown or "ingest" not in chosen:
            raise SystemExit(f"--calls: pick from {', '.join(self.calls)}, with ingest")
        self.calls = {name: self.calls[name] for name in chosen}
        # The product runs with the shipped gunicorn.conf.py, access log included.
        self.product_env = dict(env)
        if args.access_log != "off":
            self.product_env.pop("WEB_ACCESS_LOG", None)

    def post(self, base_url: str, headers: dict, duration: float | None = None):
        h.django_eval(self.env, CLEAN)  # every run starts from the same table size
        return measure(
            base_url + PATH,
            method="POST",
            headers=headers,
            body=BODY,
            threads=self.args.wrk_threads,
            connections=self.args.connections,
            duration=self.args.duration if duration is None else duration,
        )

    def warm(self, base_url: str, headers: dict) -> None:
        if self.args.warmup > 0:
            self.post(base_url, headers, duration=self.args.warmup)

    def start_reference(self) -> h.ServerProcess:
        return h.start_gunicorn(
            self.env,
            workers=self.args.workers,
            threads=self.args.threads,
            app="bench._reference_app:application",
            ready_path="/ready/",
            log_name="bench-reference",
        )


def summary(label: str, runs: list, ref_runs: list, note: str) -> str:
    rps = statistics.median(r.rps for r in runs)
    ref = statistics.median(r.rps for r in ref_runs)
    p50 = statistics.median(r.p50 for r in runs)
    p99 = statistics.median(r.p99 for r in runs)
    ref_p99 = statistics.median(r.p99 for r in ref_runs)
    errors = sum(r.errors for r in runs)
    return (
        f"{label} {h.num(rps)} req/s p50 {p50:.1f} ms p99 {p99:.1f} ms (errors {errors}) | "
        f"reference {h.num(ref)} req/s p99 {ref_p99:.1f} ms | ratio {h.ratio(rps, ref):.2f}, "
        f"p99 ratio {h.ratio(p99, ref_p99):.2f} "
        f"(median of {len(runs)} alternating rounds; {note})"
    )


@contextlib.contextmanager
def otlp_sink():
    """A local OTLP/HTTP endpoint that accepts every export and keeps nothing (an empty body is
    an empty ExportTraceServiceResponse); yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_compare(runner: Runner, args: argparse.Namespace, note: str) -> None:
    with contextlib.ExitStack() as stack:
        reference = stack.enter_context(runner.start_reference())
        product = stack.enter_context(
            h.start_gunicorn(runner.product_env, workers=args.workers, threads=args.threads)
        )
        cases = [("reference", reference, runner.headers)]
        cases += [(label, product, headers) for label, headers in runner.calls.items()]
        if args.tracing:
            traced_env = {
                **runner.product_env,
                "OTEL_EXPORTER_OTLP_ENDPOINT": stack.enter_context(otlp_sink()),
            }
            traced = stack.enter_context(
                h.start_gunicorn(
                    traced_env,
                    workers=args.workers,
                    threads=args.threads,
                    log_name="bench-gunicorn-tracing",
                )
            )
            cases.append(("ingest+tracing", traced, runner.headers))
        for _, server, headers in cases:
            runner.warm(server.base_url, headers)
        runs: dict[str, list] = {label: [] for label, _, _ in cases}
        cpu: dict[str, list[float]] = {label: [] for label, _, _ in cases}
        for round_number in range(1, args.rounds + 1):
            for label, server, headers in cases:
                tree = process_tree([server.process.pid])
                before = cpu_seconds(tree)
                stats = runner.post(server.base_url, headers)
                spent = cpu_spent(before, cpu_seconds(process_tree([server.process.pid])))
                cpu[label].append(spent * 1000 / max(stats.count, 1))
                runs[label].append(stats)
                print(
                    f"round {round_number} {stats.line(label)} server CPU {cpu[label][-1]:.2f} ms"
                    " per accepted request",
                    flush=True,
                )
        floors = []
        for _ in range(args.floor_rounds):
            floors.append(
                measure(
                    product.base_url + FLOOR_PATH,
                    threads=args.wrk_threads,
                    connections=args.connections,
                    duration=args.duration,
                )
            )
    reference_cpu = statistics.median(cpu["reference"])
    for label in runs:
        if label != "reference":
            label_cpu = statistics.median(cpu[label])
            print(
                summary(label, runs[label], runs["reference"], note)
                + f" | server CPU {label_cpu:.2f} ms per request vs the reference's"
                f" {reference_cpu:.2f} ({h.ratio(label_cpu, reference_cpu):.2f} x)",
                flush=True,
            )
    if "ingest+tracing" in runs:
        on = statistics.median(r.rps for r in runs["ingest+tracing"])
        off = statistics.median(r.rps for r in runs["ingest"])
        # Per round, the traced server against the untraced one measured just before it.
        paired = [
            a.rps / b.rps
            for a, b in zip(runs["ingest+tracing"], runs["ingest"], strict=True)
            if b.rps
        ]
        cpu_on, cpu_off = statistics.median(cpu["ingest+tracing"]), statistics.median(cpu["ingest"])
        print(
            f"tracing on {h.num(on)} req/s vs off {h.num(off)} req/s: ratio on/off "
            f"{h.ratio(on, off):.2f}, median of the rounds' ratios "
            f"{statistics.median(paired):.2f} (target >= 0.90); server CPU per request on "
            f"{cpu_on:.2f} ms vs off {cpu_off:.2f} ms: +{(cpu_on / cpu_off - 1) * 100:.0f} %",
            flush=True,
        )
    if floors:
        floor = statistics.median(r.rps for r in floors)
        ingest = statistics.median(r.rps for r in runs["ingest"])
        print(
            f"floor GET {FLOOR_PATH} {h.num(floor)} req/s p99 "
            f"{statistics.median(r.p99 for r in floors):.1f} ms (product server, no database) | "
            f"ingest {h.num(ingest)} req/s | ratio ingest/floor {h.ratio(ingest, floor):.2f}",
            flush=True,
        )


def run_configs(runner: Runner, args: argparse.Namespace, note: str) -> None:
    configs = []
    for item in args.configs.split(","):
        workers, _, threads = item.strip().lower().partition("x")
        configs.append((int(workers), int(threads or 1)))
    runs: dict[str, list] = {f"{w}x{t}": [] for w, t in configs}
    ref_runs: list = []
    with runner.start_reference() as reference:
        runner.warm(reference.base_url, runner.headers)
        for round_number in range(1, args.rounds + 1):
            stats = runner.post(reference.base_url, runner.headers)
            ref_runs.append(stats)
            print(f"round {round_number} " + stats.line("reference"), flush=True)
            for workers, threads in configs:
                label = f"{workers}x{threads}"
                with h.start_gunicorn(
                    runner.product_env, workers=workers, threads=threads
                ) as product:
                    runner.warm(product.base_url, runner.headers)
                    stats = runner.post(product.base_url, runner.headers)
                runs[label].append(stats)
                print(f"round {round_number} " + stats.line(f"ingest {label}"), flush=True)
    for label, config_runs in runs.items():
        print(summary(f"ingest {label} (workers x threads)", config_runs, ref_runs, note))


def run(argv: list[str]) -> None:
    args = parse(argv)
    env = h.bench_env("bench", {"INGEST_THROTTLE_RATE": "none"})
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)  # off unless --tracing (its own server)
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    creds = h.django_eval(env, SETUP)
    tool = (
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration:g}s"
        if wrk_path()
        else f"Python loop, {args.connections} threads, {args.duration:g} s"
    )
    reference_config = f"reference gunicorn -w {args.workers} --threads {args.threads}"
    access_log = "product access log " + ("off" if args.access_log == "off" else "as shipped")
    runner = Runner(env, creds, args)
    try:
        if args.configs:
            run_configs(runner, args, f"{tool}; {reference_config}; {access_log}")
        else:
            both = f"both gunicorn -w {args.workers} --threads {args.threads}"
            run_compare(runner, args, f"{tool}; {both}; {access_log}")
    finally:
        h.django_eval(env, CLEAN)
