"""Fail fast while Redis (cache) or the broker is down: per-process circuit breakers.

After `DEPENDENCY_BREAKER_FAILURES` connection errors in a row, a breaker opens for
`DEPENDENCY_BREAKER_SECONDS`: calls are refused at once instead of each waiting for a connect
timeout. Then one call is let through; a success closes the breaker, a failure opens it again.
The state is per process on purpose: it only saves this process from waiting, it decides nothing
that another instance needs to know.
"""

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError

if TYPE_CHECKING:
    from celery.result import AsyncResult

logger = logging.getLogger(__name__)


class DependencyUnavailable(RedisConnectionError):
    """Refused without trying: the breaker of this dependency is open.

    A redis `ConnectionError`, so code that already handles an unreachable cache handles it too.
    """


class BrokerUnavailable(Exception):
    """The message was not published (broker unreachable, or its breaker is open)."""


class CircuitBreaker:
    """Counts consecutive failures of one dependency; open means "do not even try"."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self.failures = 0
        self.open_until = 0.0
        self.refused = 0  # calls short-circuited since the last reset (tests and logs read it)

    @staticmethod
    def _threshold() -> int:
        return max(1, getattr(settings, "DEPENDENCY_BREAKER_FAILURES", 3))

    @staticmethod
    def _cooldown() -> float:
        return float(getattr(settings, "DEPENDENCY_BREAKER_SECONDS", 5.0))

    def allow(self) -> bool:
        if self.open_until and time.monotonic() < self.open_until:
            with self._lock:
                self.refused += 1
            return False
        return True

    @property
    def is_open(self) -> bool:
        return bool(self.open_until) and time.monotonic() < self.open_until

    def record_success(self) -> None:
        if self.failures or self.open_until:  # the common path takes no lock
            with self._lock:
                if self.open_until:
                    logger.info("%s reachable again: breaker closed.", self.name)
                self.failures = 0
                self.open_until = 0.0

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self._threshold():
                if not self.is_open:
                    logger.warning(
                        "%s unreachable %d times in a row: skipping it for %.1f s.",
                        self.name,
                        self.failures,
                        self._cooldown(),
                    )
                self.open_until = time.monotonic() + self._cooldown()

    def reset(self) -> None:
        with self._lock:
            self.failures = 0
            self.open_until = 0.0
            self.refused = 0


cache_breaker = CircuitBreaker("Cache (Redis)")
broker_breaker = CircuitBreaker("Celery broker")


class CeleryTask(Protocol):
    """What publish needs of a Celery task object."""

    name: str

    def apply_async(
        self,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> "AsyncResult": ...


def publish(
    task: CeleryTask | str,
    *,
    args: Sequence[Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> "AsyncResult":
    """Publishes a Celery task (a task object or a registered name) through the broker breaker.

    Raises BrokerUnavailable at once while the breaker is open, or when the publish fails; the
    caller keeps its own fallback (send later from the database, or do the work inline).
    """
    name = task if isinstance(task, str) else task.name
    if not broker_breaker.allow():
        raise BrokerUnavailable(f"Broker breaker open: {name} not published.")
    try:
        if isinstance(task, str):
            from celery import current_app

            result = current_app.send_task(task, args=args, kwargs=kwargs, **options)
        else:
            result = task.apply_async(args=args, kwargs=kwargs, **options)
    except Exception as exc:  # noqa: BLE001 - kombu/redis/amqp errors differ by transport
        broker_breaker.record_failure()
        raise BrokerUnavailable(f"Could not publish {name}: {type(exc).__name__}") from exc
    broker_breaker.record_success()
    return result
