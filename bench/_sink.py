"""A local webhook sink for the delivery benches: asyncio HTTP/1.1 on 127.0.0.1, in a thread.

It counts what a destination would see: distinct `webhook-id`s answered (deliveries), requests
that repeat an id already seen (duplicates), and the wall-clock time (time.time(), comparable
with other processes on this machine) of the last new delivery. It answers each request after
`delay_ms` (keep-alive), or never (`delay_ms=None`: a destination that hangs until the client's
read timeout). One event loop serves any number of connections (thousands), so 256+ deliveries
in flight are no problem. Per request path (one per destination) it also keeps the calls open at
once (`max_open`, for per-destination caps) and arrival times (`max_in_window`, for rate limits).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class Sink:
    def __init__(self, *, delay_ms: float | None = 0.0, id_header: str = "webhook-id"):
        self.delay = None if delay_ms is None else max(delay_ms, 0.0) / 1000
        self.id_header = id_header.lower().encode()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="sink", daemon=True)
        self.port = 0
        self.reset()

    # --- counters (read from the bench thread) ---

    def reset(self) -> None:
        with self._lock:
            self.seen: set[str] = set()
            self.delivered: set[str] = set()
            self.requests = 0
            self.duplicates = 0
            self.first_at = 0.0
            self.last_delivered_at = 0.0
            self.last_answer_at = 0.0  # any answer, a repeated id's too
            # Per request path (one destination each): calls open now and at most, arrivals.
            self.open_calls: dict[str, int] = {}
            self.max_open: dict[str, int] = {}
            self.arrivals: dict[str, list[float]] = {}

    def count(self, prefix: str = "") -> int:
        """Distinct ids answered (optionally only those starting with `prefix`)."""
        with self._lock:
            if not prefix:
                return len(self.delivered)
            return sum(1 for i in self.delivered if i.startswith(prefix))

    def max_in_window(self, path: str, seconds: float = 1.0) -> int:
        """The most requests to `path` that arrived within any `seconds` of each other."""
        with self._lock:
            times = sorted(self.arrivals.get(path, []))
        best, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= seconds:
                first += 1
            best = max(best, last - first + 1)
        return best

    def wait_for(self, count: int, *, timeout: float, prefix: str = "") -> bool:
        """Waits until `count` distinct ids were answered; False at the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(prefix) >= count:
                return True
            time.sleep(0.01)
        return self.count(prefix) >= count

    # --- server ---

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bench"

    def start(self) -> Sink:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.port = future.result(timeout=10)
        return self

    async def _start(self) -> int:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, backlog=2048, limit=1 << 20
        )
        return self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Closes the listener and every open connection (a hanging one included)."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                length, msg_id = 0, ""
                path = head.split(b" ", 2)[1].decode("latin-1") if b" " in head else ""
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value.strip() or 0)
                    elif name == self.id_header:
                        msg_id = value.strip().decode("latin-1")
                if length:
                    await reader.readexactly(length)
                self._arrived(msg_id, path)
                if self.delay is None:
                    await reader.read()  # hang: no answer until the client gives up
                    return
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(RESPONSE)
                await writer.drain()
                self._answered(msg_id, path)
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            return  # stop(): ending quietly (a re-raised cancel is logged by asyncio on 3.11)
        finally:
            writer.close()

    def _arrived(self, msg_id: str, path: str) -> None:
        with self._lock:
            self.requests += 1
            self.open_calls[path] = self.open_calls.get(path, 0) + 1
            self.max_open[path] = max(self.max_open.get(path, 0), self.open_calls[path])
            self.arrivals.setdefault(path, []).append(time.monotonic())
            if not self.first_at:
                self.first_at = time.time()
            if msg_id in self.seen:
                self.duplicates += 1
            else:
                self.seen.add(msg_id)

    def _answered(self, msg_id: str, path: str) -> None:
        with self._lock:
            self.open_calls[path] -= 1
            self.last_answer_at = time.time()
            if msg_id not in self.delivered:
                self.delivered.add(msg_id)
                self.last_delivered_at = time.time()
