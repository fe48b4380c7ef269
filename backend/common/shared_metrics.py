"""Prometheus counters and histograms whose values live in the shared cache (Redis).

prometheus_client keeps values in process memory, so a counter incremented by a Celery worker (or
by one gunicorn worker) never shows on the /metrics of another process, let alone another
machine. These metrics increment keys in the default cache instead, and a collector registered
in every process reads them all with one `get_many` at scrape time: any web process's /metrics
shows the product's totals. Updates never raise: a cache outage loses counts, not requests.

Label values are declared up front (`series`, a callable evaluated at scrape time) so the
collector knows which keys to read without scanning.
"""

import contextlib
import fcntl
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

KEY_PREFIX = "metrics"
# Histogram sums are stored as integers in micro-units (cache incr is integer-only).
SUM_SCALE = 1_000_000

_metrics: list["SharedCounter | SharedHistogram"] = []


@contextlib.contextmanager
def _atomic_incr_guard() -> Iterator[None]:
    """Redis INCRBY is atomic; the embedded file cache's incr is get + set, so processes on the
    machine take a file lock around it instead."""
    backend = caches["default"]
    if not isinstance(backend, FileBasedCache):
        yield
        return
    lock_path = Path(backend._dir) / ".metrics.lock"  # type: ignore[attr-defined]  # Django private, not in the stub
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _incr(key: str, amount: int) -> None:
    try:
        with _atomic_incr_guard():
            try:
                cache.incr(key, amount)
            except ValueError:  # first increment anywhere: create it (add is a no-op if raced)
                cache.add(key, 0, timeout=None)
                cache.incr(key, amount)
    except Exception:  # noqa: BLE001 - metrics must never break the request or the task
        logger.debug("Could not update metric %s", key, exc_info=True)


class _Child:
    def __init__(self, counter: "SharedCounter", labelvalues: tuple[str, ...]):
        self._key = counter.key(labelvalues)

    def inc(self, amount: int = 1) -> None:
        _incr(self._key, int(amount))


class SharedCounter:
    """A counter with labels; `.labels(*values).inc()` like prometheus_client's Counter."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        series: Callable[[], Iterable[tuple[str, ...]]] | None = None,
    ):
        self.name = name.removesuffix("_total")
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._series = series or (lambda: [()])
        _metrics.append(self)

    def key(self, labelvalues: tuple[str, ...]) -> str:
        return ":".join((KEY_PREFIX, self.name, *labelvalues))

    def labels(self, *labelvalues: object) -> _Child:
        if len(labelvalues) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}")
        return _Child(self, tuple(str(v) for v in labelvalues))

    def inc(self, amount: int = 1) -> None:
        _incr(self.key(()), int(amount))

    def series(self) -> list[tuple[str, ...]]:
        return [tuple(str(v) for v in labels) for labels in self._series()]

    def keys(self) -> list[str]:
        return [self.key(labels) for labels in self.series()]

    def family(self, values: dict[str, int]) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels in self.series():
            family.add_metric(list(labels), values.get(self.key(labels)) or 0)
        return family


class SharedHistogram:
    """A histogram without labels; `.observe(seconds)` like prometheus_client's Histogram."""

    def __init__(self, name: str, documentation: str, buckets: Iterable[float]):
        self.name = name
        self.documentation = documentation
        self.buckets = tuple(sorted(buckets))
        _metrics.append(self)

    def _bucket_key(self, bound: float) -> str:
        return f"{KEY_PREFIX}:{self.name}:le:{bound:g}"

    @property
    def _sum_key(self) -> str:
        return f"{KEY_PREFIX}:{self.name}:sum"

    @property
    def _count_key(self) -> str:
        return f"{KEY_PREFIX}:{self.name}:count"

    def observe(self, value: float) -> None:
        # Only the first bucket that fits is incremented; the collector accumulates them.
        for bound in self.buckets:
            if value <= bound:
                _incr(self._bucket_key(bound), 1)
                break
        _incr(self._count_key, 1)
        _incr(self._sum_key, round(value * SUM_SCALE))

    def keys(self) -> list[str]:
        return [*(self._bucket_key(b) for b in self.buckets), self._sum_key, self._count_key]

    def family(self, values: dict[str, int]) -> HistogramMetricFamily:
        running = 0
        buckets = []
        for bound in self.buckets:
            running += values.get(self._bucket_key(bound)) or 0
            buckets.append((f"{bound:g}", running))
        count = values.get(self._count_key) or 0
        buckets.append(("+Inf", count))
        return HistogramMetricFamily(
            self.name,
            self.documentation,
            buckets=buckets,
            sum_value=(values.get(self._sum_key) or 0) / SUM_SCALE,
        )


class SharedMetricsCollector(Collector):
    """Reads every shared metric from the cache at scrape time (one get_many)."""

    def describe(self) -> Iterator[Metric]:
        # Lets the registry learn the names without reading the cache at registration.
        for metric in _metrics:
            yield metric.family({})

    def collect(self) -> Iterator[Metric]:
        keys = list(itertools.chain.from_iterable(metric.keys() for metric in _metrics))
        try:
            values = cache.get_many(keys) if keys else {}
        except Exception:  # noqa: BLE001 - a scrape during a cache outage shows no product metrics
            logger.warning("Could not read shared metrics from the cache", exc_info=True)
            return
        for metric in _metrics:
            yield metric.family(values)


_collector = SharedMetricsCollector()


def register_collector() -> None:
    """Registers the collector with prometheus_client's default registry (once per process)."""
    with contextlib.suppress(ValueError):  # already registered
        REGISTRY.register(_collector)
