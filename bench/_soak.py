"""Soak of a running `make run` (README "Embedded broker"): for `--minutes`, against `--base`:

- one scheduled task created through the API every second (they run through the broker);
- one ingest (CL-X-TOKEN) every second, delivered to a local sink on 127.0.0.1 (the server needs
  `DESTINATION_ALLOWED_HOSTS=127.0.0.1`);
- one invitation (mail) every two minutes (the invite throttle is 60/hour);
- the admin's pages every 10 s, logged in as the superuser given by `--admin-email/--admin-password`.

At the end it waits for the backlog and prints one JSON summary: what was sent, what completed,
what the sink received, and every non-2xx answer. Not a bench of its own (`_`): it runs for minutes.

    python -m bench._soak --base http://127.0.0.1:8018 --minutes 30 --sink-port 9918
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

ADMIN_PAGES = (
    "/admin/",
    "/admin/destinations/destination/",
    "/admin/destinations/deliverylog/",
    "/admin/endpoints/scheduledtask/",
    "/admin/users/user/",
)


class Sink:
    """Counts the deliveries it receives (distinct webhook-id) and answers 200."""

    def __init__(self, port: int):
        self.ids: set[str] = set()
        self.posts = 0
        lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    sink.posts += 1
                    sink.ids.add(self.headers.get("webhook-id", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Soak:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.api = requests.Session()
        self.ingest_client = requests.Session()  # CL-X-TOKEN alone, no JWT
        self.errors: collections.Counter[str] = collections.Counter()
        self.counts: collections.Counter[str] = collections.Counter()
        self.task_ids: list[str] = []

    def call(self, what: str, method: str, path: str, client=None, **kwargs):
        try:
            response = (client or self.api).request(method, self.base + path, timeout=15, **kwargs)
        except requests.RequestException as error:
            self.errors[f"{what}: {type(error).__name__}"] += 1
            return None
        if response.status_code >= 300:
            self.errors[f"{what}: HTTP {response.status_code}"] += 1
        else:
            self.counts[what] += 1
        return response

    def set_up(self, sink_port: int) -> None:
        email = f"soak-{uuid.uuid4().hex[:8]}@example.com"
        password = f"soak-{uuid.uuid4().hex}"
        self.call(
            "register",
            "POST",
            "/api/v1/auth/register/",
            json={"email": email, "password": password, "username": email.split("@")[0]},
        )
        token = self.call(
            "login", "POST", "/api/v1/auth/token/", json={"email": email, "password": password}
        ).json()["access"]
        self.api.headers["Authorization"] = f"Bearer {token}"
        account = self.call("accounts", "GET", "/api/v1/accounts/").json()["results"][0]
        self.account_id = account["id"]
        self.app_token = account["app_secret_token"]
        destination = self.call(
            "destination",
            "POST",
            f"/api/v1/accounts/{self.account_id}/destinations/",
            json={"url": f"http://127.0.0.1:{sink_port}/hook"},
        )
        if destination is None or destination.status_code != 201:
            raise SystemExit(f"destination refused: {destination and destination.text}")

    def tick(self, second: int) -> None:
        task = self.call(
            "task",
            "POST",
            "/api/v1/tasks/",
            json={
                "name": f"soak-{second}",
                "task_type": "add",
                "parameters": {"x": second, "y": 1},
            },
        )
        if task is not None and task.status_code == 201:
            self.task_ids.append(task.json()["id"])
        self.call(
            "ingest",
            "POST",
            "/api/v1/incoming-data/",
            client=self.ingest_client,
            headers={"CL-X-TOKEN": self.app_token},
            json={"n": second, "amount": 19.90},
        )
        if second % 120 == 0:
            self.call(
                "invite",
                "POST",
                "/api/v1/users/invite/",
                json={
                    "email": f"invitee-{second}-{uuid.uuid4().hex[:6]}@example.com",
                    "account_id": self.account_id,
                },
            )


def admin_loop(base: str, email: str, password: str, stop: threading.Event, soak: Soak) -> None:
    session = requests.Session()
    page = session.get(f"{base}/admin/login/", timeout=15)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    session.post(
        f"{base}/admin/login/?next=/admin/",
        timeout=15,
        data={
            "username": email,
            "password": password,
            "csrfmiddlewaretoken": csrf.group(1) if csrf else "",
        },
        headers={"Referer": f"{base}/admin/login/"},
    )
    while not stop.wait(10):
        for path in ADMIN_PAGES:
            try:
                response = session.get(base + path, timeout=15, allow_redirects=False)
            except requests.RequestException as error:
                soak.errors[f"admin {path}: {type(error).__name__}"] += 1
                continue
            if response.status_code == 200:
                soak.counts["admin pages"] += 1
            else:
                soak.errors[f"admin {path}: HTTP {response.status_code}"] += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--sink-port", type=int, default=9918)
    parser.add_argument("--admin-email", default="")
    parser.add_argument("--admin-password", default="")
    options = parser.parse_args()

    sink = Sink(options.sink_port)
    soak = Soak(options.base)
    soak.set_up(options.sink_port)
    stop = threading.Event()
    if options.admin_email:
        threading.Thread(
            target=admin_loop,
            args=(soak.base, options.admin_email, options.admin_password, stop, soak),
            daemon=True,
        ).start()
    started = time.monotonic()
    second = 0
    while time.monotonic() - started < options.minutes * 60:
        soak.tick(second)
        second += 1
        time.sleep(max(0.0, started + second - time.monotonic()))
    stop.set()

    # Let the backlog drain (bounded), then count.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(sink.ids) < soak.counts["ingest"]:
        time.sleep(1)
    statuses: collections.Counter[str] = collections.Counter()
    for task_id in soak.task_ids:
        response = soak.call("task status", "GET", f"/api/v1/tasks/{task_id}/status/")
        statuses[response.json().get("status", "?") if response is not None else "?"] += 1
    print(
        json.dumps(
            {
                "seconds": round(time.monotonic() - started),
                "sent": dict(soak.counts),
                "tasks_by_status": dict(statuses),
                "sink_distinct_deliveries": len(sink.ids),
                "sink_posts": sink.posts,
                "errors": dict(soak.errors),
            },
            indent=2,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
