"""The delivery engine: one loop per worker process that keeps many deliveries in flight.

Each loop turn fans out waiting events, claims as many due deliveries as it has free slots (in
one batch), hands them to a thread pool that makes the HTTP calls, and records the finished ones
in one batch. Only the loop thread touches the database; the pool threads only talk HTTP. So
throughput is `DELIVERY_CONCURRENCY / destination latency` per process rather than one delivery
per process at a time, and a slow or hanging destination holds at most its per-destination cap of
slots (see `claims`) until its circuit breaker opens (see `health`).

Why threads: the HTTP client (requests + urllib3 with the SSRF-vetted connections of
`transports`) is blocking and proven, the work between calls is small, and a pool of threads keeps
each destination's keep-alive connections; the benchmark (`make bench BENCH_ARGS=delivery`) is
what the default concurrency comes from (README).

The engine starts inside each Celery worker process (`destinations.apps`), so `celery worker` is
all a deployment runs; `DELIVERY_ENGINE=off` turns it off for workers meant only for other tasks.
The database is the queue: an idle engine polls with a backoff from `DELIVERY_POLL_MIN_SECONDS`
to `DELIVERY_POLL_MAX_SECONDS`.
"""

import contextlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connection

from destinations.pipeline.claims import deliveries_claim
from destinations.pipeline.fanout import events_fan_out
from destinations.pipeline.outcomes import AttemptResult, attempt_send, outcomes_record

logger = logging.getLogger(__name__)

SKIPPED = "skipped"


def delivery_attempt(*, log_id: int) -> str:
    """One attempt for one log, now, in this thread, through the engine's own steps.

    Outcomes: skipped (not claimable: finished, not due, or another engine holds it), held
    (destination disabled), success, retry, failed.
    """
    jobs = deliveries_claim(limit=1, log_ids=[log_id])
    if not jobs:
        return SKIPPED
    recorded = outcomes_record([attempt_send(jobs[0])])
    return str(recorded.get(log_id, SKIPPED))


class DeliveryEngine:
    """The loop thread and its pool (see the module docstring)."""

    def __init__(self, *, concurrency: int | None = None):
        self.concurrency = concurrency or settings.DELIVERY_CONCURRENCY
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="delivery")
        self._in_flight: set[Future[AttemptResult]] = set()
        self._done: list[AttemptResult] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delivery-engine", daemon=True)

    def start(self) -> "DeliveryEngine":
        self._thread.start()
        logger.info("Delivery engine started (%d in flight at most).", self.concurrency)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stops claiming, waits up to `timeout` for the calls in flight and records them.

        Calls still running after that are abandoned: their leases expire and another engine
        delivers them again (at least once).
        """
        self._stopping.set()
        self._thread.join(timeout + 2.0)
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        idle = settings.DELIVERY_POLL_MIN_SECONDS
        try:
            while not self._stopping.is_set():
                try:
                    busy = self.turn()
                except Exception:  # noqa: BLE001 - a database outage must not end the loop
                    logger.exception("Delivery engine turn failed; retrying.")
                    self._reset_connection()
                    busy = False
                    idle = settings.DELIVERY_POLL_MAX_SECONDS
                if busy:
                    idle = settings.DELIVERY_POLL_MIN_SECONDS
                    self._stopping.wait(settings.DELIVERY_TICK_SECONDS)
                else:
                    self._stopping.wait(idle)
                    idle = min(idle * 2, settings.DELIVERY_POLL_MAX_SECONDS)
            self._drain(timeout=5.0)
        finally:
            connection.close()

    def turn(self) -> bool:
        """One loop turn; True when there was work (so the next turn comes soon).

        Finished attempts are recorded before the next claim, so what they change (a breaker
        that opened, a destination disabled) already holds for that claim.
        """
        self._collect()
        recorded = bool(self._done)
        if self._done:
            results, self._done = self._done, []
            outcomes_record(results)
        fanned = events_fan_out()
        free = self.concurrency - len(self._in_flight)
        jobs = deliveries_claim(limit=free) if free > 0 else []
        for job in jobs:
            self._in_flight.add(self._pool.submit(attempt_send, job))
        return bool(recorded or fanned or jobs or self._in_flight)

    def _collect(self) -> None:
        finished = {future for future in self._in_flight if future.done()}
        self._in_flight -= finished
        for future in finished:
            try:
                self._done.append(future.result())
            except Exception:  # noqa: BLE001 - a bug in one attempt; its lease brings it back
                logger.exception("A delivery attempt raised; its lease will expire.")

    def _drain(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
            self._collect()
        self._collect()
        if self._done:
            try:
                outcomes_record(self._done)
            except Exception:  # noqa: BLE001 - leases bring these back
                logger.exception("Could not record the last outcomes at shutdown.")
            self._done = []

    @staticmethod
    def _reset_connection() -> None:
        with contextlib.suppress(Exception):  # a dead connection may fail to close, too
            connection.close()
        close_old_connections()
