"""The embedded broker (kombu's SQLAlchemy transport on a SQLite file, backend/common/
embedded_broker.py) under real concurrent processes: publishers starting together on a fresh file
(they race to create its tables), all publishing while one consumer drains; every message arrives
exactly once and no publisher fails."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from kombu import Connection

from backend.celery import app
from backend.common import embedded_broker
from tests.support.worker import ROOT

PUBLISHERS = 4
MESSAGES_EACH = 100

PUBLISH = """
import sys
from kombu import Connection
from backend.common import embedded_broker
embedded_broker.register()
url, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with Connection(url) as connection:
    queue = connection.SimpleQueue("soak")
    for n in range(count):
        queue.put({"who": who, "n": n})
    queue.close()
"""


def test_concurrent_publishers_on_a_fresh_file_lose_and_duplicate_nothing(tmp_path):
    embedded_broker.register()
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    publishers = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISH, url, f"p{i}", str(MESSAGES_EACH)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        for i in range(PUBLISHERS)
    ]
    received: list[tuple[str, int]] = []
    expected = PUBLISHERS * MESSAGES_EACH
    deadline = time.monotonic() + 120
    with Connection(url, transport_options={"polling_interval": 0.01}) as connection:
        queue = connection.SimpleQueue("soak")
        while len(received) < expected and time.monotonic() < deadline:
            try:
                message = queue.get(timeout=1)
            except queue.Empty:
                continue
            received.append((message.payload["who"], message.payload["n"]))
            message.ack()
        queue.close()
    errors = [p.communicate(timeout=60)[1].decode() for p in publishers]
    assert [p.returncode for p in publishers] == [0] * PUBLISHERS, errors
    assert len(received) == expected
    assert set(received) == {(f"p{i}", n) for i in range(PUBLISHERS) for n in range(MESSAGES_EACH)}


def test_the_sqlite_file_is_in_wal_mode_with_a_lock_wait(tmp_path):
    engine = embedded_broker.broker_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}", {})
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_forked_child_uses_connections_of_its_own(tmp_path):
    # The prefork pool forks after the worker's engine has pooled connections.
    engine = embedded_broker.broker_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}", {})
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        connection.commit()
    pid = os.fork()
    if pid == 0:  # the child: its pool starts empty, its writes work
        code = 1
        try:
            if engine.pool.checkedin() == 0:
                with engine.connect() as connection:
                    connection.exec_driver_sql("INSERT INTO t VALUES (1)")
                    connection.commit()
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with engine.connect() as connection:  # the parent's pooled connection still works
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1


def test_the_stock_transport_options_reach_kombu_not_the_engine(tmp_path):
    # polling_interval is the virtual transport's; SQLAlchemy's create_engine() refuses it.
    engine = embedded_broker.broker_engine(
        f"sqlite:///{tmp_path / 'b.sqlite3'}", {"polling_interval": 0.1, "queue_tablename": "q"}
    )
    assert engine.dialect.name == "sqlite"


@pytest.mark.skipif(
    not app.conf.broker_url.startswith("sqla+sqlite"), reason="the embedded default only"
)
def test_the_celery_app_uses_the_tuned_transport_on_the_embedded_default():
    with app.connection_for_write() as connection:
        assert connection.transport.__class__ is embedded_broker.Transport
        assert connection.transport_options["polling_interval"] == 0.1


def test_taken_messages_are_purged_and_waiting_ones_kept(tmp_path):
    embedded_broker.register()
    path = tmp_path / "broker.sqlite3"
    with Connection(f"sqla+sqlite:///{path}") as connection:
        queue = connection.SimpleQueue("purge")
        for n in range(4):
            queue.put({"n": n})
        for _ in range(3):
            queue.get(timeout=5).ack()
        assert embedded_broker.purge_consumed_messages(path) == 3
        assert embedded_broker.purge_consumed_messages(path) == 0
        assert queue.get(timeout=5).payload == {"n": 3}  # the waiting one is still there
        queue.close()


def test_purging_a_file_never_used_does_nothing(tmp_path):
    assert embedded_broker.purge_consumed_messages(tmp_path / "absent.sqlite3") == 0
    sqlite_file = tmp_path / "empty.sqlite3"
    sqlite_file.touch()
    assert embedded_broker.purge_consumed_messages(sqlite_file) == 0


def test_the_purge_is_scheduled_on_the_embedded_default_only(settings):
    scheduled = "common-purge-consumed-broker-messages" in settings.CELERY_BEAT_SCHEDULE
    assert scheduled == (settings.BROKER_SQLITE_PATH is not None)


@pytest.mark.skipif(
    not app.conf.broker_url.startswith("sqla+sqlite"), reason="the embedded default only"
)
def test_the_tests_use_a_broker_file_of_their_own(settings):
    # A `make run` in the same checkout keeps var/broker.sqlite3: tests never touch it.
    assert settings.BROKER_SQLITE_PATH.name == "test-broker.sqlite3"
    assert settings.CELERY_BROKER_URL.endswith("/test-broker.sqlite3")
