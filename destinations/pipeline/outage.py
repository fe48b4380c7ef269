"""A database outage in a loop that retries: one line when it starts, a count now and then, one
line when it ends (never a traceback per turn)."""

import logging
import time

BACKOFF_FIRST_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 5.0


class OutageLog:
    """Counts failed turns of one loop and says so at a backoff."""

    def __init__(self, *, what: str, logger: logging.Logger) -> None:
        self.what = what
        self.logger = logger
        self.failures = 0
        self._started = 0.0
        self._next_report = 2

    def failed(self, exc: BaseException) -> float:
        """Records a failed turn; returns how long to wait before the next one."""
        self.failures += 1
        if self.failures == 1:
            self._started = time.monotonic()
            self._next_report = 2
            self.logger.error(
                "%s: database unavailable (%s: %s); retrying with backoff.",
                self.what,
                type(exc).__name__,
                str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "",
            )
        elif self.failures >= self._next_report:
            self._next_report *= 2
            self.logger.warning(
                "%s: database still unavailable after %d failed attempts (%.0fs).",
                self.what,
                self.failures,
                time.monotonic() - self._started,
            )
        return float(min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** (self.failures - 1)))

    def recovered(self) -> None:
        if self.failures:
            self.logger.warning(
                "%s: database available again after %d failed attempts (%.1fs).",
                self.what,
                self.failures,
                time.monotonic() - self._started,
            )
            self.failures = 0
