"""The shipped gunicorn config, run for real on 127.0.0.1: metrics summed over the workers, and a
HUP reload that refuses no connection."""

import http.client
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.gunicorn import GunicornProcess
from tests.support.metrics import metric_value
from tests.support.worker import wait_until

pytestmark = [pytest.mark.slow]

REQUESTS = "django_http_requests_total_by_view_transport_method_total"
# A page that touches no shared state (the embedded default's /health/ probes one cache key that
# concurrent processes overwrite); the anonymous throttle is raised for the burst.
PAGE = "/api/"
PAGE_SAMPLE = {"view": "compat-api-root", "method": "GET"}
SERVER_ENV = {"ANON_THROTTLE_RATE": "1000000/minute"}


@pytest.fixture
def gunicorn(db, tmp_path):
    """`gunicorn(**kwargs)` starts a server; every server started is stopped after the test."""
    started: list[GunicornProcess] = []

    def start(**kwargs) -> GunicornProcess:
        server = GunicornProcess(tmp_path, extra_env=SERVER_ENV, **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def scrape(server: GunicornProcess) -> float:
    status, body = server.get("/metrics")
    assert status == 200
    return metric_value(body.decode(), REQUESTS, **PAGE_SAMPLE)


def test_every_worker_answers_metrics_with_the_sum_over_all_workers_from_zero(gunicorn):
    # Sync workers (one request at a time each) and 4 clients: both workers serve requests.
    server = gunicorn(workers=2, threads=1)
    requests = 80
    seen = [scrape(server)]
    expected = seen[0] + requests

    def page(_):
        return server.get(PAGE)[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        pending = pool.map(page, range(requests))
        for _ in range(8):  # scrapes while the requests run: the count never goes backwards
            seen.append(scrape(server))
        statuses = list(pending)
    assert statuses == [200] * requests
    assert len(server.served_by(PAGE)) == 2, "one worker served every request"

    # Every scrape after the burst shows all of it, whichever worker answers; keep scraping
    # (in pairs, so both workers take some) until both workers have answered a scrape.
    for _ in range(20):
        with ThreadPoolExecutor(max_workers=2) as pool:
            seen.extend(pool.map(lambda _: scrape(server), range(2)))
        assert seen[-2:] == [expected, expected]
        if len(server.served_by("/metrics")) == 2:
            break
    assert len(server.served_by("/metrics")) == 2, "one worker answered every scrape"
    assert seen == sorted(seen), f"the count went backwards between scrapes: {seen}"
    assert server.metrics_dir.is_dir() and any(server.metrics_dir.glob("counter_*.db"))

    # A new master on the same directory starts from zero: the last run's files are cleared.
    server.stop()
    again = gunicorn(workers=2, threads=1)
    assert again.metrics_dir == server.metrics_dir
    assert scrape(again) == 0


def test_a_hup_reload_replaces_the_workers_without_refusing_a_connection(gunicorn):
    server = gunicorn(workers=2, threads=4)  # the shipped default worker: gthread
    old_workers = server.worker_pids()
    requests, clients = 300, 4
    done = threading.Semaphore(0)
    errors: list[str] = []
    statuses: list[int] = []

    def client(share: int):
        for _ in range(share):
            try:
                statuses.append(server.get(PAGE)[0])
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, closed early
                errors.append(repr(exc))
            done.release()

    threads = [threading.Thread(target=client, args=(requests // clients,)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for _ in range(requests // 3):  # a third of the requests answered: reload mid-stream
        done.acquire(timeout=30)
    server.process.send_signal(signal.SIGHUP)
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert statuses == [200] * requests
    new_workers = wait_until(
        lambda: (
            (pids := server.worker_pids()) and len(pids) == 2 and not pids & old_workers and pids
        ),
        timeout=30,
        message=f"the workers were not replaced:\n{server.logs()[-3000:]}",
    )
    assert server.process.poll() is None  # the same master, still serving
    assert server.get(PAGE)[0] == 200
    assert new_workers.isdisjoint(old_workers)
