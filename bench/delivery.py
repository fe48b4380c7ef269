"""End-to-end delivery: seconds to deliver N events (default 5,000) to a local sink, and how many
were lost (must be 0).

gunicorn (2 workers) takes the events (16 client threads, throttle off); a Celery worker
(concurrency 4, embedded beat for the sweeper) delivers them to a threaded HTTP sink on
127.0.0.1 that counts distinct `webhook-id`s. The clock runs from the first POST to the last
distinct delivery. Bounded by `--timeout` (default 300 s).
Run: `python -m bench delivery` (or `make bench BENCH_ARGS=delivery`).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from bench import _harness as h

PATH = "/api/v1/incoming-data/"

SETUP = """
import os
from accounts.models import Account
from destinations.models import Destination

account, _ = Account.objects.get_or_create(name="bench-delivery")
account.events.all().delete()
Destination.objects.filter(account=account).delete()
Destination.objects.create(account=account, url=os.environ["BENCH_SINK_URL"])
print(json.dumps({"token": str(account.app_secret_token)}))
"""

REPORT = """
from django.db.models import Count
from destinations.models import DeliveryLog

rows = DeliveryLog.objects.filter(account__name="bench-delivery").values("status")
print(json.dumps({r["status"]: r["n"] for r in rows.annotate(n=Count("id"))}))
"""


class Sink:
    """Counts distinct webhook-ids; answers 200 at once."""

    def __init__(self):
        self.ids: set[str] = set()
        self.requests = 0
        self.last_new_at = 0.0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                msg_id = self.headers.get("webhook-id", "")
                with sink.lock:
                    sink.requests += 1
                    if msg_id not in sink.ids:
                        sink.ids.add(msg_id)
                        sink.last_new_at = time.monotonic()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bench"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.delivery")
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", 5000)))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300)
    args, _ = parser.parse_known_args(argv)
    return args


def post_events(url: str, token: str, count: int, concurrency: int) -> int:
    """Posts `count` events with distinct CL-X-EVENT-IDs; returns how many got 200."""
    run_id = uuid.uuid4().hex[:8]
    next_index = iter(range(count))
    lock = threading.Lock()
    accepted = 0

    def worker():
        nonlocal accepted
        session = requests.Session()
        ok = 0
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                break
            headers = {"CL-X-TOKEN": token, "CL-X-EVENT-ID": f"bench-{run_id}-{i}"}
            for _ in range(3):  # a refused connection under load is retried by the sender
                try:
                    response = session.post(url, json={"i": i}, headers=headers, timeout=30)
                except requests.RequestException:
                    continue
                if response.status_code == 200:
                    ok += 1
                    break
        with lock:
            accepted += ok

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return accepted


def run(argv: list[str]) -> None:
    args = parse(argv)
    sink = Sink()
    env = h.bench_env(
        "bench",
        {
            "INGEST_THROTTLE_RATE": "none",
            "DESTINATION_ALLOWED_HOSTS": "127.0.0.1",
            "BENCH_SINK_URL": sink.url,
            "DELIVERY_SWEEP_INTERVAL_SECONDS": "2",
            "LOG_LEVEL": "WARNING",
        },
    )
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    creds = h.django_eval(env, SETUP)
    try:
        with (
            h.start_gunicorn(env, workers=2) as server,
            h.start_celery_worker(env, concurrency=args.worker_concurrency, beat=True),
        ):
            started = time.monotonic()
            accepted = post_events(
                server.base_url + PATH, creds["token"], args.events, args.concurrency
            )
            posted_in = time.monotonic() - started
            deadline = started + args.timeout
            while time.monotonic() < deadline and len(sink.ids) < accepted:
                time.sleep(0.2)
            elapsed = (sink.last_new_at or time.monotonic()) - started
        statuses = h.django_eval(env, REPORT)
    finally:
        sink.stop()
    lost = accepted - len(sink.ids)
    print(
        f"delivery     {accepted} events accepted in {posted_in:.1f} s; delivered "
        f"{len(sink.ids)} distinct in {elapsed:.1f} s end to end "
        f"({len(sink.ids) / elapsed if elapsed else 0:.0f}/s), sink requests {sink.requests}, "
        f"lost {lost}, log statuses {statuses}",
        flush=True,
    )
