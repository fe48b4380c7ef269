"""Ingest counts its calls in the process: no Redis command (nor cache key) for a metric."""

import threading

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from prometheus_client import REGISTRY

from tests.destinations.test_ingest import URL, token_client

INGESTS = 5
METRIC_WORDS = ("metrics", "destinations_ingest", "ingest_requests")


def accepted_count() -> float:
    sample = "destinations_ingest_requests_total"
    return REGISTRY.get_sample_value(sample, {"outcome": "accepted"}) or 0.0


class RedisCommands:
    """Every command the Redis server runs, seen through MONITOR while the block runs."""

    END = "ingest-metrics-monitor-end"

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)
        self.commands: list[str] = []
        self._ready = threading.Event()

    def _listen(self, monitor):
        self._ready.set()
        while True:
            command = monitor.next_command()["command"]
            if self.END in command:
                return
            self.commands.append(command)

    def __enter__(self):
        self._monitor = self.client.monitor()
        self._monitor.__enter__()
        self._thread = threading.Thread(target=self._listen, args=(self._monitor,), daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def __exit__(self, *exc):
        self.client.echo(self.END)
        self._thread.join(timeout=10)
        self._monitor.__exit__(*exc)
        self.client.close()


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
def test_ingest_sends_no_metric_command_to_redis(account):
    client = token_client(account)
    before = accepted_count()

    with RedisCommands(settings.REDIS_URL) as seen:
        statuses = [client.post(URL, {"i": i}, format="json").status_code for i in range(INGESTS)]

    assert statuses == [200] * INGESTS
    # The monitor saw the requests' own Redis traffic (the throttle), so it was listening...
    assert any("throttle" in command for command in seen.commands), seen.commands
    # ...and none of it was a metric, while the in-process counter took every call.
    assert [c for c in seen.commands if any(w in c for w in METRIC_WORDS)] == []
    assert accepted_count() - before == INGESTS


def test_ingest_touches_no_cache_key_for_a_metric(account, monkeypatch):
    """The same on either cache backend: every cache call of the requests is recorded."""
    backend = type(caches["default"])
    keys: list[str] = []
    for method in ("get", "set", "add", "incr", "decr", "get_many", "set_many", "delete"):
        original = getattr(backend, method)

        def recording(self, key, *args, _original=original, **kwargs):
            keys.extend([key] if isinstance(key, str) else list(key))
            return _original(self, key, *args, **kwargs)

        monkeypatch.setattr(backend, method, recording)
    client = token_client(account)
    before = accepted_count()

    statuses = [client.post(URL, {"i": i}, format="json").status_code for i in range(INGESTS)]

    assert statuses == [200] * INGESTS
    assert keys, "the recorder saw no cache call at all (the throttle uses the cache)"
    assert [k for k in keys if any(w in k for w in METRIC_WORDS)] == []
    assert accepted_count() - before == INGESTS
