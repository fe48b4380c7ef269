"""When an engine's next turn is due: new events (PostgreSQL LISTEN), and the next retry, lease
end, breaker cooling or rate window it can see in the database.

`EventListener` (PostgreSQL): a thread with a connection of its own that LISTENs on the channel
the `destinations_event` INSERT trigger notifies (migration 0005), so an ingested event wakes
every engine within milliseconds and no engine polls for events. It runs no transactions: it
waits on the socket. If its connection drops, it reconnects with a backoff and wakes the engine
once (a notification may have been missed). SQLite has no notifications: engines there wake at
`DELIVERY_POLL_FALLBACK_SECONDS`.

`next_due_at(now)`: the earliest future moment something becomes claimable (a pending retry, a
lease running out, a breaker's cooling ending, a full rate window ending), read in the turn's
transaction, so an engine sleeps exactly until then.
"""

import logging
import select
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, Min

from destinations.models import DeliveryLog, Destination
from destinations.pipeline.outage import OutageLog

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "delivery_events"
Status = DeliveryLog.Status


# The same four moments in one statement (each an indexed MIN over a partial index).
NEXT_DUE_SQL = """
SELECT
    (SELECT min(next_attempt_at) FROM destinations_deliverylog
        WHERE status = 'pending' AND next_attempt_at > %(now)s),
    (SELECT min(claimed_until) FROM destinations_deliverylog
        WHERE status = 'in_progress' AND claimed_until >= %(now)s),
    (SELECT min(breaker_open_until) FROM destinations_destination
        WHERE breaker_trips > 0 AND breaker_open_until > %(now)s),
    (SELECT min(rate_window_start) + interval '1 second' FROM destinations_destination
        WHERE is_active AND rate_limit IS NOT NULL AND rate_window_count >= rate_limit
            AND rate_window_start > %(window_start)s)
"""


def next_due_at(now: datetime) -> datetime | None:
    """The earliest moment after `now` at which a claim may find something new."""
    window_start = now - timedelta(seconds=1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(NEXT_DUE_SQL, {"now": now, "window_start": window_start})
            row = cursor.fetchone()
        return min((m for m in row if m is not None), default=None)
    moments = [
        DeliveryLog.objects.filter(status=Status.PENDING, next_attempt_at__gt=now).aggregate(
            at=Min("next_attempt_at")
        )["at"],
        DeliveryLog.objects.filter(status=Status.IN_PROGRESS, claimed_until__gte=now).aggregate(
            at=Min("claimed_until")
        )["at"],
        Destination.objects.filter(breaker_trips__gt=0, breaker_open_until__gt=now).aggregate(
            at=Min("breaker_open_until")
        )["at"],
    ]
    full_window = Destination.objects.filter(
        is_active=True,
        rate_limit__isnull=False,
        rate_window_count__gte=F("rate_limit"),
        rate_window_start__gt=window_start,
    ).aggregate(at=Min("rate_window_start"))["at"]
    if full_window is not None:
        moments.append(full_window + timedelta(seconds=1))
    return min((m for m in moments if m is not None), default=None)


class EventListener:
    """LISTENs for new events on its own connection and calls `wake` (PostgreSQL only)."""

    def __init__(self, *, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._stopping = threading.Event()
        self._params = connection.get_connection_params()
        self._thread = threading.Thread(target=self._run, name="delivery-listener", daemon=True)
        self._outage = OutageLog(what="Delivery event listener", logger=logger)

    @staticmethod
    def supported() -> bool:
        return connection.vendor == "postgresql"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(3)

    def _run(self) -> None:
        import psycopg2  # type: ignore[import-untyped]
        from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT  # type: ignore[import-untyped]

        while not self._stopping.is_set():
            conn = None
            try:
                conn = psycopg2.connect(**self._params)
                conn.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
                with conn.cursor() as cursor:
                    cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
                if self._outage.failures:
                    self._wake()  # notifications may have been missed meanwhile
                self._outage.recovered()
                while not self._stopping.is_set():
                    readable, _, _ = select.select([conn], [], [], 1.0)
                    if readable:
                        conn.poll()
                        if conn.notifies:
                            conn.notifies.clear()
                            self._wake()
            except (psycopg2.Error, OSError) as exc:
                self._stopping.wait(self._outage.failed(exc))
            finally:
                if conn is not None:
                    conn.close()
