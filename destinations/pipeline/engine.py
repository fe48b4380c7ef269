"""The delivery engine: one per worker process, a loop that sleeps until there is work.

Two threads. The loop thread is the only one touching the database: each turn is ONE
transaction that records the finished attempts (`outcomes`), renews the leases of the calls still
in flight when the heartbeat is due (`claims.leases_renew`), fans out waiting events (`fanout`),
claims as many due deliveries as there are free slots (`claims`) and reads when the next thing
falls due (`wakeup.next_due_at`). The claimed jobs then go to the HTTP thread (`calls`): one
asyncio loop with one aiohttp session, `DELIVERY_CONCURRENCY` calls in flight.

Between turns the loop thread sleeps until one of: a call finished, a new event was ingested
(PostgreSQL NOTIFY, `wakeup.EventListener`), the next retry / lease end / breaker cooling / rate
window falls due, the heartbeat is due, or `DELIVERY_POLL_FALLBACK_SECONDS` passed (the only
polling, and all there is on SQLite). Turns are paced so that each carries a batch: with a
backlog (the last claim filled every free slot, or more events wait than one fan-out batch) at
least `DELIVERY_TURN_MIN_SECONDS` apart unless a quarter of the calls in flight finished sooner;
without one, at least `DELIVERY_TURN_GATHER_SECONDS` apart, unless a call to a destination that
its claim filled up (a capped or FIFO destination) ended: then as with a backlog. A turn's
statements cost about the same whatever it carries, so under a steady trickle this is what keeps
delivery's CPU per event low. An idle engine costs one transaction per fallback interval.

Why asyncio + aiohttp: delivery is waiting on the network; one event loop keeps thousands of
calls in flight on one thread without a thread each, and the per-call work is small.

A database outage is logged once, then with a count at a backoff, then once when it ends
(`outage`); results not yet recorded are kept and recorded by the first turn that succeeds.

The engine starts inside each Celery worker process (`destinations.tasks`), so `celery worker` is
all a deployment runs; `DELIVERY_ENGINE=off` turns it off for workers meant only for other tasks.
"""

import contextlib
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections, connection, transaction
from django.utils import timezone

from destinations.pipeline.calls import CallLoop
from destinations.pipeline.claims import claims_serialize, deliveries_claim, leases_renew
from destinations.pipeline.fanout import events_fan_out
from destinations.pipeline.outage import OutageLog
from destinations.pipeline.outcomes import attempt_send_now, outcomes_record
from destinations.pipeline.wakeup import EventListener, next_due_at

logger = logging.getLogger(__name__)

SKIPPED = "skipped"
DATABASE_ERRORS = (DatabaseError, InterfaceError)


def delivery_attempt(*, log_id: int) -> str:
    """One attempt for one log, now, in this thread, through the engine's own steps.

    Outcomes: skipped (not claimable: finished, not due, or another engine holds it), held
    (destination disabled), success, retry, failed.
    """
    jobs = deliveries_claim(limit=1, log_ids=[log_id])
    if not jobs:
        return SKIPPED
    recorded = outcomes_record([attempt_send_now(jobs[0])])
    return str(recorded.get(log_id, SKIPPED))


class DeliveryEngine:
    """The loop thread, the HTTP thread and the event listener (see the module docstring)."""

    def __init__(self, *, concurrency: int | None = None):
        self.concurrency = concurrency or settings.DELIVERY_CONCURRENCY
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._calls = CallLoop(concurrency=self.concurrency, on_finish=self._wake.set)
        self._listener = EventListener(wake=self._wake.set) if EventListener.supported() else None
        self._thread = threading.Thread(target=self._run, name="delivery-engine", daemon=True)
        self._outage = OutageLog(what="Delivery engine", logger=logger)
        self._next_heartbeat = 0.0
        # The last turn left work waiting for this engine (see `_has_backlog`).
        self._backlog = False
        self.turns = 0

    def start(self) -> "DeliveryEngine":
        self._calls.start()
        if self._listener is not None:
            self._listener.start()
        self._thread.start()
        logger.info("Delivery engine started (%d in flight at most).", self.concurrency)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stops claiming, waits up to `timeout` for the calls in flight and records them.

        Calls still running after that are abandoned: their leases expire and another engine
        delivers them again (at least once).
        """
        self._stopping.set()
        self._wake.set()
        self._calls.interrupt()  # a gathering wait would hold the stop for its whole window
        self._thread.join(timeout + 5.0)
        if self._listener is not None:
            self._listener.stop()

    @property
    def batch_waits(self) -> int:
        """Waits for a batch of finished calls begun so far (see `CallLoop.wait_for_batch`)."""
        return self._calls.batch_waits

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                started = time.monotonic()
                self._wake.clear()
                try:
                    delay = self.turn()
                except DATABASE_ERRORS as exc:
                    self._reset_connection()
                    self._stopping.wait(self._outage.failed(exc))
                    continue
                except Exception:  # noqa: BLE001 - a bug must not end deliveries for good
                    logger.exception("Delivery engine turn failed; retrying.")
                    self._reset_connection()
                    self._stopping.wait(1.0)
                    continue
                self._outage.recovered()
                self._wake.wait(delay)
                # Under load, a call finishes every few milliseconds: a turn waits (up to the
                # spacing) for a batch of them, so it records and claims many at once. Without a
                # backlog it waits longer: nothing is kept waiting but new events, and fewer
                # turns carry the same deliveries.
                elapsed = time.monotonic() - started
                eager = settings.DELIVERY_TURN_MIN_SECONDS - elapsed
                gather = max(eager, settings.DELIVERY_TURN_GATHER_SECONDS - elapsed)
                if gather > 0 and not self._stopping.is_set():
                    self._calls.wait_for_batch(
                        backlog=self._backlog, eager_timeout=eager, gather_timeout=gather
                    )
            self._drain(timeout=5.0)
        finally:
            self._calls.close()
            connection.close()

    def turn(self) -> float:
        """One turn (one transaction); returns how long the engine may sleep before the next."""
        results = self._calls.take_finished()
        heartbeat = time.monotonic() >= self._next_heartbeat
        try:
            with transaction.atomic():
                claims_serialize()  # first, before any row lock (see `claims`)
                if results:
                    outcomes_record(results)
                if heartbeat:
                    leases_renew(tokens=self._calls.tokens())
                fanned = events_fan_out()
                free = self.concurrency - self._calls.in_flight
                jobs = (
                    deliveries_claim(limit=free) if free > 0 and not self._stopping.is_set() else []
                )
                now = timezone.now()
                due = next_due_at(now)
        except DATABASE_ERRORS:
            self._calls.put_back(results)
            raise
        self.turns += 1
        self._backlog = self._has_backlog(fanned=fanned, free=free, claimed=len(jobs))
        if heartbeat:
            self._next_heartbeat = time.monotonic() + settings.DELIVERY_HEARTBEAT_SECONDS
        self._calls.submit(jobs)  # only once the claim is committed
        delay = settings.DELIVERY_POLL_FALLBACK_SECONDS
        if fanned >= settings.DELIVERY_FANOUT_BATCH:
            delay = 0.0  # more events wait than one batch took
        if due is not None:
            delay = min(delay, max((due - now).total_seconds(), 0.0))
        if self._calls.in_flight:
            delay = min(delay, max(self._next_heartbeat - time.monotonic(), 0.0))
        return float(delay)

    @staticmethod
    def _has_backlog(*, fanned: int, free: int, claimed: int) -> bool:
        """Work waits for this engine: more events than one fan-out batch, or a claim that took
        as many as the engine had room for (it may have left due deliveries behind). A capped or
        FIFO destination's waiting work shows when a call its claim filled it with ends."""
        return fanned >= settings.DELIVERY_FANOUT_BATCH or claimed >= free

    def _drain(self, *, timeout: float) -> None:
        self._calls.wait_idle(timeout)
        results = self._calls.take_finished()
        if results:
            try:
                outcomes_record(results)
            except Exception:  # noqa: BLE001 - leases bring these back
                logger.warning("Could not record the last outcomes at shutdown.")

    @staticmethod
    def _reset_connection() -> None:
        with contextlib.suppress(Exception):  # a dead connection may fail to close, too
            connection.close()
        close_old_connections()
