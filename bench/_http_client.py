"""A small asyncio HTTP/1.1 client that sends N POSTs with C connections in flight.

Run as its own process (so it does not share a GIL with the sink it talks to)::

    python -m bench._http_client --url http://127.0.0.1:PORT/path --count 5000 --concurrency 256 \
        --header 'CL-X-TOKEN: ...' --id-header webhook-id --id-prefix ref-

Each request carries `<id-header>: <id-prefix><i>` (distinct ids, so a retry after a connection
error is idempotent where the server honours the header). Keep-alive is used when the server
allows it (a `Connection: close` answer opens a new connection, as gunicorn's sync worker needs).
Prints one JSON document: counts, statuses, and wall-clock times (time.time()) of the start, the
end and the last successful response. Bounded by `--timeout` per request and `--deadline` overall.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

BODY = '{"event": "bench", "value": 42, "nested": {"a": [1, 2, 3]}}'


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench._http_client")
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--id-header", default="")
    parser.add_argument("--id-prefix", default="")
    parser.add_argument("--body", default=BODY)
    parser.add_argument("--attempts", type=int, default=3, help="tries per request")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--deadline", type=float, default=600.0)
    return parser.parse_args(argv)


class Client:
    def __init__(self, args: argparse.Namespace):
        parts = urlsplit(args.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.args = args
        self.body = args.body.encode()
        self.fixed = "".join(f"{h.strip()}\r\n" for h in args.header)
        self.next_index = 0
        self.statuses: Counter[int] = Counter()
        self.ok = 0
        self.errors = 0
        self.last_ok_at = 0.0

    def request_bytes(self, index: int) -> bytes:
        extra = (
            f"{self.args.id_header}: {self.args.id_prefix}{index}\r\n"
            if self.args.id_header
            else ""
        )
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
            f"{self.fixed}{extra}\r\n"
        )
        return head.encode() + self.body

    async def connection_loop(self) -> None:
        reader = writer = None
        while self.next_index < self.args.count:
            index = self.next_index
            self.next_index += 1
            for _ in range(max(self.args.attempts, 1)):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(self.host, self.port)
                    writer.write(self.request_bytes(index))
                    status, close = await asyncio.wait_for(
                        self.read_response(reader), self.args.timeout
                    )
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    continue
                self.statuses[status] += 1
                if 200 <= status < 300:
                    self.ok += 1
                    self.last_ok_at = time.time()
                else:
                    self.errors += 1
                if close:
                    writer.close()
                    reader = writer = None
                break
            else:
                self.statuses[0] += 1
                self.errors += 1
        if writer is not None:
            writer.close()

    @staticmethod
    async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, close = 0, lines[0].startswith(b"HTTP/1.0")
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip() or 0)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if length:
            await reader.readexactly(length)
        return status, close


async def main_async(args: argparse.Namespace) -> dict:
    client = Client(args)
    started = time.time()
    loops = [client.connection_loop() for _ in range(min(args.concurrency, args.count))]
    with contextlib.suppress(TimeoutError):  # the deadline: report what was done
        await asyncio.wait_for(asyncio.gather(*loops), args.deadline)
    finished = time.time()
    return {
        "count": args.count,
        "ok": client.ok,
        "errors": client.errors,
        "statuses": {str(k): v for k, v in sorted(client.statuses.items())},
        "started_at": started,
        "finished_at": finished,
        "last_ok_at": client.last_ok_at,
        "elapsed": finished - started,
    }


def main(argv: list[str]) -> int:
    print(json.dumps(asyncio.run(main_async(parse(argv)))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
