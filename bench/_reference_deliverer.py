"""The least-work deliverer the delivery benches compare the product with: the same durable
bookkeeping on the product's own tables, nothing else.

Per process and turn, one transaction: fan-out is one `UPDATE events ... RETURNING` feeding an
`INSERT` of logs, a claim one `UPDATE ... RETURNING` of up to 100 due logs (`FOR UPDATE SKIP
LOCKED` in a subquery) joined to their events and destinations; idle, it polls with a backoff up
to 200 ms; HTTP by asyncio + aiohttp (`--in-flight`
calls, keep-alive, signed as Standard Webhooks); outcomes are written in one transaction per batch:
the attempts by one `INSERT ... SELECT FROM unnest(...)`, the statuses by one `UPDATE ... FROM
unnest(...)`. `--processes` copies run side by side (forked). It has none of the product's rules
(caps, breakers, rate limits, FIFO, leases taken over): it is the floor, not a replacement.

    python -m bench._reference_deliverer --dsn postgres://... --accounts 3,4 --deadline 300

Each process stops after `--idle-exit` seconds with nothing to do, or at `--deadline`; the bench
usually stops it earlier with SIGTERM once everything is delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import signal
import time
import uuid
from datetime import UTC, datetime

import aiohttp
import psycopg2

FAN_OUT = """
WITH ev AS (
    UPDATE destinations_event SET fanned_out_at = now()
    WHERE id IN (SELECT id FROM destinations_event WHERE fanned_out_at IS NULL
                 AND account_id = ANY(%(accounts)s) ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED)
    RETURNING id, account_id, received_at)
INSERT INTO destinations_deliverylog (created_at, updated_at, status, attempts,
    round_start_attempts, next_attempt_at, last_error, received_timestamp, account_id,
    destination_id, event_id)
SELECT now(), now(), 'pending', 0, 0, now(), '', ev.received_at, ev.account_id, d.id, ev.id
FROM ev JOIN destinations_destination d ON d.account_id = ev.account_id AND d.is_active
ON CONFLICT DO NOTHING
"""
CLAIM = """
WITH c AS (
    UPDATE destinations_deliverylog SET status = 'in_progress', attempts = attempts + 1,
        claimed_until = now() + interval '40 seconds', claim_token = %(token)s, updated_at = now()
    WHERE id IN (SELECT id FROM destinations_deliverylog WHERE status = 'pending'
                 AND next_attempt_at <= now() AND account_id = ANY(%(accounts)s)
                 ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
    RETURNING id, attempts, event_id, destination_id)
SELECT c.id, c.attempts, e.event_id, e.body, d.url, d.signing_secret
FROM c JOIN destinations_event e ON e.id = c.event_id
JOIN destinations_destination d ON d.id = c.destination_id
"""
ATTEMPTS = """
INSERT INTO destinations_deliveryattempt (log_id, attempt_number, started_at, duration_ms,
    status_code, error, response_body, outcome)
SELECT * FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[], %s::int[], %s::smallint[],
    %s::text[], %s::text[], %s::varchar[])
"""
STATUSES = """
UPDATE destinations_deliverylog l SET status = u.status, last_status_code = u.code,
    last_error = u.error, processed_timestamp = now(), updated_at = now(), claimed_until = NULL,
    claim_token = NULL, next_attempt_at = CASE WHEN u.status = 'pending'
        THEN now() + interval '5 seconds' END
FROM unnest(%s::bigint[], %s::varchar[], %s::smallint[], %s::text[]) AS u(id, status, code, error)
WHERE l.id = u.id
"""


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Deliverer:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.db = psycopg2.connect(args.dsn)
        self.accounts = [int(a) for a in args.accounts.split(",") if a]
        self.in_flight = 0
        self.results: list[tuple] = []
        self.wake = asyncio.Event()
        self.stopping = False

    def claim(self, limit: int) -> list:
        """Fan-out and claim in one transaction (the claim sees the logs just fanned out)."""
        with self.db.cursor() as cursor:
            cursor.execute(FAN_OUT, {"accounts": self.accounts})
            params = {"token": str(uuid.uuid4()), "limit": limit, "accounts": self.accounts}
            cursor.execute(CLAIM, params)
            rows = cursor.fetchall()
        self.db.commit()
        return rows

    async def send(self, http: aiohttp.ClientSession, row: tuple) -> None:
        log_id, attempt, event_id, body, url, secret = row
        msg_id, now = f"msg_{event_id}_{log_id}", int(time.time())
        headers = {"content-type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(now),
                   "webhook-signature": signature(secret, msg_id, now, body)}  # fmt: skip
        started, code, error, text = time.time(), None, "", ""
        try:
            async with http.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                code, text = resp.status, (await resp.content.read(4096)).decode(errors="replace")
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = repr(exc)[:500]
        ok = code is not None and 200 <= code < 300
        outcome = "success" if ok else "retry"
        self.results.append((log_id, attempt, started, int((time.time() - started) * 1000),
                             code, error, text, outcome))  # fmt: skip
        self.in_flight -= 1
        self.wake.set()

    def record(self) -> None:
        done, self.results = self.results, []
        columns = [list(c) for c in zip(*done, strict=True)]
        columns[2] = [datetime.fromtimestamp(t, UTC) for t in columns[2]]
        with self.db.cursor() as cursor:
            cursor.execute(ATTEMPTS, columns)
            statuses = ["success" if o == "success" else "pending" for o in columns[7]]
            cursor.execute(STATUSES, (columns[0], statuses, columns[4], columns[5]))
        self.db.commit()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(connect=5, sock_read=15)
        connector = aiohttp.TCPConnector(limit=self.args.in_flight, limit_per_host=0)
        deadline = time.monotonic() + self.args.deadline
        idle_since, poll = time.monotonic(), 0.005
        tasks: set[asyncio.Task] = set()
        async with aiohttp.ClientSession(
            timeout=timeout, connector=connector, trust_env=False
        ) as http:
            while not self.stopping and time.monotonic() < deadline:
                busy = bool(self.in_flight or self.results)
                if self.results and (len(self.results) >= 100 or self.in_flight < 100):
                    self.record()
                if self.args.in_flight - self.in_flight >= 50 or not self.in_flight:
                    rows = self.claim(min(100, self.args.in_flight - self.in_flight))
                    for row in rows:
                        self.in_flight += 1
                        task = asyncio.create_task(self.send(http, row))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    busy = busy or bool(rows)
                if busy:
                    idle_since, poll = time.monotonic(), 0.005
                elif time.monotonic() - idle_since > self.args.idle_exit:
                    break
                else:  # nothing to do: poll less and less often, up to 5 times a second
                    poll = min(poll * 2, 0.2)
                self.wake.clear()
                with contextlib.suppress(TimeoutError):  # a completion wakes the loop at once
                    await asyncio.wait_for(self.wake.wait(), poll)
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.results:
            self.record()


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench._reference_deliverer")
    parser.add_argument("--dsn", required=True, help="PostgreSQL URL of the bench database")
    parser.add_argument("--accounts", required=True, help="account ids, comma-separated")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--in-flight", type=int, default=256, help="calls in flight per process")
    parser.add_argument("--idle-exit", type=float, default=30.0)
    parser.add_argument("--deadline", type=float, default=600.0)
    args = parser.parse_args()
    children = []
    for _ in range(args.processes - 1):
        pid = os.fork()
        if pid == 0:
            children = None
            break
        children.append(pid)
    deliverer = Deliverer(args)
    signal.signal(signal.SIGTERM, lambda *_: setattr(deliverer, "stopping", True))
    asyncio.run(deliverer.run())
    for pid in children or []:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
