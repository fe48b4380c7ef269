"""The HTTP calls in flight of one engine: an asyncio loop in a thread of the worker process.

The engine's loop thread (the only one touching the database) hands claimed jobs over with
`submit`; each becomes a task on this loop that makes the call through the engine's one aiohttp
session (connections kept per destination), so `DELIVERY_CONCURRENCY` calls cost one thread.
Finished results wait in `take_finished` for the next turn, and each one wakes the engine.
"""

import asyncio
import collections
import logging
import threading
import time
import uuid
from collections.abc import Callable

import aiohttp

from destinations.pipeline.claims import DeliveryJob
from destinations.pipeline.outcomes import AttemptResult, attempt_send
from destinations.pipeline.transports import delivery_client

logger = logging.getLogger(__name__)


class CallLoop:
    """The event loop thread, its session and the bookkeeping of calls in flight."""

    def __init__(self, *, concurrency: int, on_finish: Callable[[], None]) -> None:
        self.concurrency = concurrency
        self._on_finish = on_finish
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="delivery-http")
        self._thread.daemon = True
        self._lock = threading.Lock()
        self._finishing = threading.Condition(self._lock)
        self._finished: list[AttemptResult] = []
        # A call to a destination its claim filled up ended since the last turn.
        self._slot_freed = False
        # The engine is stopping: no wait for a batch (see `interrupt`).
        self._interrupted = False
        self.batch_waits = 0  # waits begun (tests wait for one to be under way)
        self._tokens: collections.Counter[uuid.UUID] = collections.Counter()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(timeout=10)

    async def _open(self) -> None:
        self._session = delivery_client(concurrency=self.concurrency)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def tokens(self) -> list[uuid.UUID]:
        """Claim tokens with calls still in flight (their leases need renewing)."""
        with self._lock:
            return list(self._tokens)

    def submit(self, jobs: list[DeliveryJob]) -> None:
        with self._lock:
            self._in_flight += len(jobs)
            for job in jobs:
                self._tokens[job.claim_token] += 1
        for job in jobs:
            self._loop.call_soon_threadsafe(self._start_call, job)

    def _start_call(self, job: DeliveryJob) -> None:
        task = self._loop.create_task(self._call(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call(self, job: DeliveryJob) -> None:
        result: AttemptResult | None = None
        try:
            assert self._session is not None
            result = await attempt_send(job, self._session)
        except Exception:  # noqa: BLE001 - a bug in one attempt; its lease brings it back
            logger.exception("A delivery attempt raised; its lease will expire.")
        with self._lock:
            self._in_flight -= 1
            self._tokens[job.claim_token] -= 1
            if self._tokens[job.claim_token] <= 0:
                del self._tokens[job.claim_token]
            if result is not None:
                self._finished.append(result)
            self._slot_freed = self._slot_freed or job.fills_destination
            self._finishing.notify_all()
        self._on_finish()

    def take_finished(self) -> list[AttemptResult]:
        with self._lock:
            finished, self._finished = self._finished, []
            self._slot_freed = False
        return finished

    def wait_for_batch(self, *, backlog: bool, eager_timeout: float, gather_timeout: float) -> None:
        """Waits for finished calls to record together.

        Eager (work waits for slots: the engine has a backlog, or a call to a destination its claim
        filled up ended, and a capped or FIFO destination may have work waiting for that slot):
        until a quarter of the calls (at most 64) finished, at most `eager_timeout`, so finished
        calls do not hold their slots for long. Otherwise the whole `gather_timeout`.
        """
        now = time.monotonic()
        eager_until, gather_until = now + eager_timeout, now + gather_timeout
        with self._finishing:
            self.batch_waits += 1
            while not self._interrupted:
                eager = backlog or self._slot_freed
                wanted = max(1, min(64, (self._in_flight + len(self._finished)) // 4))
                if eager and len(self._finished) >= wanted:
                    return
                remaining = (eager_until if eager else gather_until) - time.monotonic()
                if remaining <= 0:
                    return
                self._finishing.wait(remaining)

    def interrupt(self) -> None:
        """Ends the current wait for a batch, and every later one (the engine is stopping)."""
        with self._finishing:
            self._interrupted = True
            self._finishing.notify_all()

    def put_back(self, results: list[AttemptResult]) -> None:
        """Results a failed turn could not record: the next turn tries again."""
        with self._lock:
            self._finished[:0] = results

    def wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        """Cancels what is still in flight (its leases expire), closes the session and the loop."""

        async def shut() -> None:
            for task in list(self._tasks):
                task.cancel()
            if self._session is not None:
                await self._session.close()

        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=5)
            except Exception:  # noqa: BLE001 - shutting down anyway
                logger.warning("The delivery HTTP loop did not close cleanly.")
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
