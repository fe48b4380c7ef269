"""The delivery engine in real worker processes against 127.0.0.1 sinks: it wakes on a new event
(PostgreSQL NOTIFY), a killed worker's deliveries are taken over within seconds (its lost send
recorded), engines share one destination's cap and rate limit, a DNS blip is retried, HTTPS is
verified against the host name through the vetted address, private addresses are refused, and
the circuit breaker escalates on probes only.

Name resolution is controlled inside the test (`DELIVERY_HOSTS_FILE`): no lookup leaves the
machine.
"""

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from destinations.models import DeliveryAttempt, DeliveryLog, Destination
from destinations.pipeline.ingest import event_ingest
from tests.destinations.factories import DestinationFactory
from tests.destinations.tls import https_sink, make_test_ca
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]

WORKER_ENV = {
    "DESTINATION_ALLOWED_HOSTS": "127.0.0.1",
    "DELIVERY_CONNECT_TIMEOUT": "2",
    "DELIVERY_READ_TIMEOUT": "5",
    "DELIVERY_CONCURRENCY": "16",
}
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="NOTIFY wake-ups are PostgreSQL's"
)


def ingest(account, n: int = 0) -> None:
    event_ingest(account_id=account.pk, body=json.dumps({"n": n}))


def log_of(destination) -> DeliveryLog:
    return DeliveryLog.objects.get(destination=destination)


def hosts_file(tmp_path, table: dict) -> str:
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps(table))
    return str(path)


@postgresql_only
def test_it_wakes_on_a_new_event_without_polling(celery_worker_process, account, sink):
    DestinationFactory(account=account, url=sink.url("/wake"))
    celery_worker_process(
        extra_env={**WORKER_ENV, "DELIVERY_POLL_FALLBACK_SECONDS": "30"}, concurrency=1
    )
    ingest(account, 0)  # the first one may meet the engine's first turn
    wait_until(lambda: len(sink.received("/wake")) == 1, timeout=30, message="not delivered")

    for n in (1, 2):
        sent = time.monotonic()
        ingest(account, n)
        wait_until(
            lambda n=n: len(sink.received("/wake")) == n + 1,
            timeout=10,
            interval=0.02,
            message="an idle engine did not wake on a new event",
        )
        # The fallback poll is 30 s away: only the INSERT's notification can explain this.
        assert sink.received("/wake")[-1]["at"] - sent < 1.0


def test_a_killed_workers_delivery_is_taken_over_within_seconds_and_recorded(
    celery_worker_process, account, sink
):
    destination = DestinationFactory(account=account, url=sink.url("/slow"))
    sink.script("/slow", [{"hang": True}])  # the first call never answers; later ones do
    env = {**WORKER_ENV, "DELIVERY_READ_TIMEOUT": "60"}  # defaults: 8 s lease, 2 s heartbeat
    first = celery_worker_process(extra_env=env, concurrency=1)
    ingest(account)
    wait_until(lambda: len(sink.received("/slow")) == 1, timeout=30, message="never sent")
    claimed = log_of(destination)
    assert claimed.status == DeliveryLog.Status.IN_PROGRESS

    celery_worker_process(extra_env=env, concurrency=1)
    # Past the first lease: still the first engine's, because it renews the lease while alive.
    wait_until(
        lambda: timezone.now() > claimed.claimed_at + timedelta(seconds=8 + 2),
        timeout=30,
        message="clock",
    )
    held = log_of(destination)
    assert (held.status, held.claim_token) == (DeliveryLog.Status.IN_PROGRESS, claimed.claim_token)
    assert held.claimed_until > claimed.claimed_until
    assert len(sink.received("/slow")) == 1

    first.kill()
    killed_at = time.monotonic()
    wait_until(
        lambda: log_of(destination).status == DeliveryLog.Status.SUCCESS,
        timeout=30,
        interval=0.1,
        message="the second engine did not take the delivery over",
    )
    assert time.monotonic() - killed_at < 10.0
    log = log_of(destination)
    attempts = list(DeliveryAttempt.objects.filter(log=log).order_by("attempt_number"))
    assert log.attempts == len(attempts) == 2
    lost, delivered = attempts
    assert (lost.attempt_number, lost.outcome, lost.error) == (1, "unknown", "unknown: worker lost")
    assert lost.started_at == claimed.claimed_at
    assert (delivered.attempt_number, delivered.outcome) == (2, "success")
    assert len(sink.received("/slow")) == 2  # the one truly in flight at the kill, sent again


def _most_within(times: list[float], width: float) -> int:
    return max(sum(1 for u in times if t <= u < t + width) for t in times)


def test_two_workers_keep_one_destinations_cap_and_rate_limit(
    celery_worker_process, account, sink, settings
):
    capped = DestinationFactory(account=account, url=sink.url("/capped"))
    limited = DestinationFactory(account=account, url=sink.url("/limited"), rate_limit=4)
    sink.default("/capped", {"delay": 0.3})
    env = {**WORKER_ENV, "DELIVERY_MAX_IN_FLIGHT_PER_DESTINATION": "3"}
    for n in range(20):
        ingest(account, n)
    celery_worker_process(extra_env=env, concurrency=2)
    celery_worker_process(extra_env=env, concurrency=2)  # four engines in two workers

    done = DeliveryLog.Status.SUCCESS
    wait_until(
        lambda: DeliveryLog.objects.filter(status=done).count() == 40,
        timeout=60,
        message="not everything was delivered",
    )
    capped_at = sorted(r["at"] for r in sink.received("/capped"))
    limited_at = sorted(r["at"] for r in sink.received("/limited"))
    assert len(capped_at) == len(limited_at) == 20
    # Each call lasts 0.3 s: more than 3 starting within 0.29 s means more than 3 in flight.
    assert _most_within(capped_at, 0.29) <= 3
    assert capped_at[-1] - capped_at[0] >= 0.3 * (20 / 3 - 1)
    # 4 per second over every engine: 20 need five windows, at least a second apart.
    assert limited_at[-1] - limited_at[0] >= 3.9
    assert _most_within(limited_at, 1.0) <= 8  # at most two windows' worth meet in a second
    assert Destination.objects.get(pk=limited.pk).rate_window_count <= 4
    assert capped.logs.filter(status=done).count() == 20


def test_a_name_that_fails_to_resolve_for_a_while_is_retried_then_delivered(
    celery_worker_process, account, sink, tmp_path
):
    hosts = hosts_file(tmp_path, {"blip.test": []})
    destination = DestinationFactory(account=account, url=f"http://blip.test:{sink.port}/dns")
    env = {**WORKER_ENV, "DELIVERY_HOSTS_FILE": hosts, "DELIVERY_RETRY_SCHEDULE": "0" + ",1" * 9}
    celery_worker_process(extra_env=env, concurrency=1)
    ingest(account)

    wait_until(
        lambda: DeliveryAttempt.objects.filter(log__destination=destination).count() >= 2,
        timeout=30,
        message="no retried attempts while the name did not resolve",
    )
    log = log_of(destination)
    assert log.status in (DeliveryLog.Status.PENDING, DeliveryLog.Status.IN_PROGRESS)
    assert "did not resolve" in log.last_error
    assert sink.received("/dns") == []

    hosts_file(tmp_path, {"blip.test": ["127.0.0.1"]})  # the name resolves again
    wait_until(
        lambda: log_of(destination).status == DeliveryLog.Status.SUCCESS,
        timeout=30,
        message="not delivered once the name resolved",
    )
    destination.refresh_from_db()
    assert destination.is_active and destination.disabled_reason == ""
    outcomes = set(
        DeliveryAttempt.objects.filter(log__destination=destination).values_list(
            "outcome", flat=True
        )
    )
    assert outcomes == {"retry", "success"}
    (received,) = sink.received("/dns")
    assert received["headers"]["host"] == f"blip.test:{sink.port}"


def test_https_is_verified_by_host_name_and_private_addresses_are_refused(
    celery_worker_process, account, tmp_path
):
    ca, cert, key = make_test_ca(tmp_path, host="hooks.test")
    sink = https_sink(cert=cert, key=key)
    try:
        hosts = hosts_file(
            tmp_path,
            {
                "hooks.test": ["127.0.0.1"],
                "wrong-name.test": ["127.0.0.1"],
                "private.test": ["10.20.30.40"],
                "mixed.test": ["127.0.0.1", "192.168.1.5"],
            },
        )
        port = sink.port
        secure = DestinationFactory(account=account, url=f"https://hooks.test:{port}/tls")
        wrong_name = DestinationFactory(account=account, url=f"https://wrong-name.test:{port}/x")
        private = DestinationFactory(account=account, url=f"http://private.test:{port}/x")
        mixed = DestinationFactory(account=account, url=f"http://mixed.test:{port}/x")
        literal = DestinationFactory(account=account, url=f"http://127.0.0.2:{port}/x")
        env = {
            **WORKER_ENV,
            "DELIVERY_HOSTS_FILE": hosts,
            "DELIVERY_CA_BUNDLE": str(ca),
            "DELIVERY_RETRY_SCHEDULE": "0",  # one attempt each: a retry would give up anyway
        }
        celery_worker_process(extra_env=env, concurrency=1)
        ingest(account)
        finished = [DeliveryLog.Status.SUCCESS, DeliveryLog.Status.FAILED]
        wait_until(
            lambda: DeliveryLog.objects.filter(status__in=finished).count() == 5,
            timeout=40,
            message="deliveries did not finish",
        )
        assert log_of(secure).status == DeliveryLog.Status.SUCCESS
        (received,) = sink.received("/tls")
        assert received["headers"]["host"] == f"hooks.test:{port}"

        # Same address, same certificate, another name: the certificate does not match it.
        mismatch = log_of(wrong_name)
        assert mismatch.status == DeliveryLog.Status.FAILED
        assert "certificate" in mismatch.last_error.lower()
        for refused in (private, mixed, literal):
            log = log_of(refused)
            assert log.status == DeliveryLog.Status.FAILED, refused.url
            assert "SSRF" in log.last_error and log.last_status_code is None
        assert "private address" in log_of(private).last_error
        assert [r["path"] for r in sink.received()] == ["/tls"]  # nothing else connected
    finally:
        sink.stop()


def test_a_burst_of_failures_in_flight_trips_the_breaker_once(celery_worker_process, account, sink):
    destination = DestinationFactory(account=account, url=sink.url("/burst"))
    sink.default("/burst", {"status": 503, "delay": 0.5})
    for n in range(30):
        ingest(account, n)
    env = {
        **WORKER_ENV,
        "DELIVERY_RETRY_SCHEDULE": "0,120",
        "DELIVERY_BREAKER_COOLING_SECONDS": "60",
    }
    celery_worker_process(extra_env=env, concurrency=2)

    def settled() -> bool:
        attempts = DeliveryAttempt.objects.filter(log__destination=destination).count()
        flying = DeliveryLog.objects.filter(status=DeliveryLog.Status.IN_PROGRESS).count()
        return attempts >= 10 and flying == 0 and attempts == len(sink.received("/burst"))

    wait_until(settled, timeout=40, message="the burst was not recorded")
    destination.refresh_from_db()
    assert destination.breaker_trips == 1
    cooling = (destination.breaker_open_until - timezone.now()).total_seconds()
    assert 0 < cooling <= 60  # one trip's cooling, not a doubled one


def test_a_destination_that_heals_resumes_within_about_one_cooling(
    celery_worker_process, account, sink
):
    destination = DestinationFactory(account=account, url=sink.url("/heal"))
    sink.default("/heal", {"status": 500, "delay": 0.2})
    for n in range(10):
        ingest(account, n)
    env = {
        **WORKER_ENV,
        "DELIVERY_RETRY_SCHEDULE": "0" + ",1" * 19,
        "DELIVERY_BREAKER_COOLING_SECONDS": "2",
        "DELIVERY_BREAKER_MAX_COOLING_SECONDS": "120",
    }
    celery_worker_process(extra_env=env, concurrency=2)

    def tripped_by_a_probe() -> Destination | None:
        current = Destination.objects.get(pk=destination.pk)
        return current if current.breaker_trips >= 2 else None

    tripped = wait_until(tripped_by_a_probe, timeout=40, interval=0.05, message="no second trip")
    assert tripped.breaker_trips <= 3  # escalated by failed probes only, not by stragglers
    sink.default("/heal", {})  # healed
    healed_at = time.monotonic()
    wait_until(
        lambda: destination.logs.filter(status=DeliveryLog.Status.SUCCESS).exists(),
        timeout=60,
        interval=0.1,
        message="never resumed",
    )
    cooling = 2 * 2 ** (tripped.breaker_trips - 1)
    assert time.monotonic() - healed_at <= cooling + 3
    wait_until(
        lambda: destination.logs.filter(status=DeliveryLog.Status.SUCCESS).count() == 10,
        timeout=40,
        message="the rest did not follow",
    )
    destination.refresh_from_db()
    assert (destination.breaker_trips, destination.is_active) == (0, True)
