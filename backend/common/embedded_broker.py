"""The embedded Celery broker: kombu's SQLAlchemy transport, tuned for a SQLite file.

kombu passes every transport option but a few to `create_engine()`, so `polling_interval` (read by
the virtual transport) cannot be set on the stock transport; this one takes it out first. On SQLite
each connection also gets WAL (publishers never block the polling worker's reads) and a 30 s wait
for the write lock instead of "database is locked"; a forked child drops its parent's pooled
connections. Registered as the `sqla` alias, so `sqla+postgresql://...` works as before.
"""

from __future__ import annotations

import os
import sqlite3
import warnings
from pathlib import Path
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SADeprecationWarning

# Transport options that configure kombu itself, not the engine.
KOMBU_OPTIONS = (
    "queue_tablename",
    "message_tablename",
    "callback",
    "errback",
    "max_retries",
    "interval_start",
    "interval_step",
    "interval_max",
    "retry_errors",
    "polling_interval",
)
SQLITE_LOCK_WAIT_SECONDS = 30


def _tune_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL survives a killed process (not a power cut): the broker holds re-creatable work.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def broker_engine(url: str, options: dict[str, Any]) -> Engine:
    engine_options = {k: v for k, v in options.items() if k not in KOMBU_OPTIONS}
    if not url.startswith("sqlite"):
        return create_engine(url, **engine_options)
    connect_args = engine_options.setdefault("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_LOCK_WAIT_SECONDS)
    engine = create_engine(url, **engine_options)
    event.listen(engine, "connect", _tune_sqlite_connection)
    # A forked child (prefork pool) must not use its parent's pooled connections: it forgets them
    # without closing them (SQLAlchemy's recipe), and opens its own.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    _create_tables(engine)
    return engine


def _create_tables(engine: Engine) -> None:
    """kombu creates its tables on first use; web, worker and beat starting together on a fresh
    file race to do so ("table kombu_queue already exists"), so the loser looks again."""
    for attempt in range(3):
        try:
            kombu_sqlalchemy.metadata.create_all(engine)
            return
        except OperationalError as error:
            if "already exists" not in str(error) or attempt == 2:
                raise


class Channel(kombu_sqlalchemy.Channel):
    def _engine_from_config(self) -> Engine:
        client = self.connection.client
        return broker_engine(client.hostname, client.transport_options)


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel


def register() -> None:
    """Makes `sqla+...` broker URLs use this transport (before any connection is opened)."""
    # kombu's models use `lazy="noload"`, deprecated in SQLAlchemy 2.1 (harmless: kombu never
    # reads the relationship); the warning would be printed by every process at its first publish.
    warnings.filterwarnings(
        "ignore", message=r"The ``noload`` loader strategy", category=SADeprecationWarning
    )
    path = f"{__name__}:Transport"
    TRANSPORT_ALIASES["sqla"] = path
    TRANSPORT_ALIASES["sqlalchemy"] = path


def purge_consumed_messages(path: Path) -> int:
    """Deletes the messages workers have taken from the SQLite broker file; returns how many.

    kombu's SQLAlchemy transport marks a message taken (`visible = 0`) instead of deleting it, so
    without this the file grows by every task ever sent. A taken message is never read again: one
    a worker loses before acknowledging is put back as a new row.
    """
    if not path.exists():
        return 0
    connection = sqlite3.connect(path, timeout=SQLITE_LOCK_WAIT_SECONDS)
    try:
        with connection:
            return connection.execute("DELETE FROM kombu_message WHERE visible = 0").rowcount
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):  # nothing was ever sent
            return 0
        raise
    finally:
        connection.close()
