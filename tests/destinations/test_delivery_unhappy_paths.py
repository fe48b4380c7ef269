"""Unhappy answers from a real 127.0.0.1 destination, one attempt at a time through the public
one-shot `delivery_attempt(log_id=...)`: Retry-After as an HTTP date, 408, connection refused, a
body cut off mid-read, a huge body (the read cap), nested payloads on a GET destination."""

import json
import socket
import threading
import time
from datetime import timedelta
from email.utils import formatdate
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone

from destinations.models import DeliveryAttempt, DeliveryLog
from destinations.pipeline.engine import delivery_attempt
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory, EventFactory
from tests.destinations.sink import verify_signature
from tests.support.worker import free_port

pytestmark = pytest.mark.usefixtures("allow_local")


@pytest.fixture
def schedule(settings):
    """Retries due at once: a second attempt can follow the first without waiting."""
    settings.DELIVERY_RETRY_SCHEDULE = [0, 0, 0, 0]
    settings.DELIVERY_READ_TIMEOUT = 5.0
    settings.DELIVERY_CONNECT_TIMEOUT = 5.0


def attempts_of(log) -> list[DeliveryAttempt]:
    return list(DeliveryAttempt.objects.filter(log=log).order_by("id"))


class RawServer:
    """A one-connection-at-a-time TCP server on 127.0.0.1 that reads one request and then runs
    `answer(sock)`; it counts the bytes it managed to send. Bounded: it stops with the test."""

    def __init__(self, answer):
        self.answer = answer
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.stopping = threading.Event()
        self.answered = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/raw"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(body) < length:
                    body += conn.recv(65536)
                try:
                    self.answer(self, conn)
                except OSError:
                    pass  # the client hung up: what this server is for
                finally:
                    self.answered.set()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=15)
        self.listener.close()


@pytest.fixture
def raw_server():
    servers = []

    def start(answer) -> RawServer:
        servers.append(RawServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_retry_after_as_an_http_date_sets_the_next_attempt(account, sink, schedule):
    destination = DestinationFactory(account=account, url=sink.url("/later"))
    when = time.time() + 120
    sink.script(
        "/later", [{"status": 503, "headers": {"Retry-After": formatdate(when, usegmt=True)}}]
    )
    log = DeliveryLogFactory(destination=destination)

    assert delivery_attempt(log_id=log.pk) == "retry"
    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.PENDING
    # The schedule alone says "at once": the date decides (HTTP dates have whole seconds).
    expected = timezone.now() + timedelta(seconds=when - time.time())
    assert abs((log.next_attempt_at - expected).total_seconds()) <= 5
    ((attempt,),) = [attempts_of(log)]
    assert (attempt.status_code, attempt.outcome) == (503, "retry")
    # Not due: a second call sends nothing.
    assert delivery_attempt(log_id=log.pk) != "success"
    assert len(sink.received("/later")) == 1


def test_a_408_is_retried(account, sink, schedule):
    destination = DestinationFactory(account=account, url=sink.url("/slow"))
    sink.script("/slow", [{"status": 408}])
    log = DeliveryLogFactory(destination=destination)

    assert delivery_attempt(log_id=log.pk) == "retry"
    assert delivery_attempt(log_id=log.pk) == "success"
    assert [(a.attempt_number, a.status_code, a.outcome) for a in attempts_of(log)] == [
        (1, 408, "retry"),
        (2, 200, "success"),
    ]
    ids = {r["headers"]["webhook-id"] for r in sink.received("/slow")}
    assert len(sink.received("/slow")) == 2 and len(ids) == 1  # the same message twice


def test_connection_refused_is_retried_and_nothing_is_disabled(account, schedule):
    destination = DestinationFactory(account=account, url=f"http://127.0.0.1:{free_port()}/none")
    log = DeliveryLogFactory(destination=destination)

    assert delivery_attempt(log_id=log.pk) == "retry"
    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.PENDING
    (attempt,) = attempts_of(log)
    assert attempt.status_code is None and attempt.outcome == "retry"
    assert "refused" in attempt.error.lower() or "connect" in attempt.error.lower()
    destination.refresh_from_db()
    assert destination.is_active


@pytest.mark.parametrize(("status", "outcome"), [(200, "success"), (503, "retry")])
def test_a_body_cut_off_mid_read_ends_the_call_and_the_status_decides(
    account, raw_server, schedule, status, outcome
):
    def half_a_body(server, conn):
        head = f"HTTP/1.1 {status} X\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
        conn.sendall(head.encode() + b"x" * 500)  # then the socket closes: 500 bytes missing

    server = raw_server(half_a_body)
    log = DeliveryLogFactory(destination=DestinationFactory(account=account, url=server.url))

    started = time.monotonic()
    assert delivery_attempt(log_id=log.pk) == outcome
    assert time.monotonic() - started < 5  # no wait for the missing bytes
    (attempt,) = attempts_of(log)
    assert attempt.status_code == status and attempt.outcome == outcome
    assert set(attempt.response_body) <= {"x"} and len(attempt.response_body) <= 500


def test_a_huge_response_is_read_up_to_the_cap_and_its_first_4_kib_kept(
    account, raw_server, schedule
):
    offered = 100 * 1024 * 1024

    def endless(server, conn):
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {offered}\r\n\r\n".encode())
        chunk = b"a" * 65536
        deadline = time.monotonic() + 30
        while server.sent < offered and time.monotonic() < deadline:
            conn.sendall(chunk)  # raises once the client has hung up
            server.sent += len(chunk)

    server = raw_server(endless)
    log = DeliveryLogFactory(destination=DestinationFactory(account=account, url=server.url))

    assert delivery_attempt(log_id=log.pk) == "success"
    (attempt,) = attempts_of(log)
    assert attempt.response_body == "a" * 4096
    # The client hung up after its read cap: what the server got out before its send failed is
    # the cap plus socket buffers, nowhere near the 100 MiB offered.
    assert server.answered.wait(15)
    assert server.sent < 16 * 1024 * 1024


def test_a_get_destination_gets_a_nested_payload_as_query_parameters(account, sink, schedule):
    destination = DestinationFactory(account=account, url=sink.url("/get"), http_method="GET")
    payload = {
        "s": "héllo & bye",
        "n": 1.5,
        "flag": True,
        "none": None,
        "nested": {"b": [1, 2], "c": "x"},
        "list": [1, "two"],
    }
    event = EventFactory(account=account, body=json.dumps(payload))
    log = DeliveryLogFactory(destination=destination, event=event)

    assert delivery_attempt(log_id=log.pk) == "success"
    (got,) = sink.received("/get")
    assert got["method"] == "GET" and got["body"] == b""
    # Top-level keys in order; strings as they are, every other value as compact JSON text.
    assert parse_qsl(urlsplit(got["path"]).query, keep_blank_values=True) == [
        ("s", "héllo & bye"),
        ("n", "1.5"),
        ("flag", "true"),
        ("none", "null"),
        ("nested", '{"b":[1,2],"c":"x"}'),
        ("list", '[1,"two"]'),
    ]
    assert verify_signature(secret=destination.signing_secret, headers=got["headers"], body=b"")
