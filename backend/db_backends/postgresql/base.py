"""Django's PostgreSQL backend whose health check skips a connection just proven alive.

With `CONN_HEALTH_CHECKS`, Django runs `SELECT 1` before the first query of every request on a
reused connection: one extra round trip per request, a fifth of a warm ingest call's time on
this machine (py-spy under wrk). A connection whose last request used it and ended without a
database error less than `HEALTH_CHECK_GRACE_SECONDS` (the `DATABASES` option, default 1 s)
ago is not checked again; an idle one is, as before. So under load no request pays for the
check, and after a quiet spell the first one still gets a working connection.

What the grace costs: if the server drops connections (a restart, a failover,
`pg_terminate_backend`) while a process is busy, its next request within the grace fails once
with a database error (503) instead of reconnecting silently, and the connection is replaced at
the end of that request (Django's `errors_occurred`). A 0 grace checks every request.
"""

import time
from typing import Any

from django.db.backends.postgresql import base

GRACE_OPTION = "HEALTH_CHECK_GRACE_SECONDS"


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, settings_dict: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        settings_dict = dict(settings_dict)
        options = dict(settings_dict.get("OPTIONS") or {})
        self.health_check_grace = float(options.pop(GRACE_OPTION, 1.0))
        settings_dict["OPTIONS"] = options  # psycopg would refuse an option it does not know
        super().__init__(settings_dict, *args, **kwargs)
        self.proven_alive_at: float | None = None

    def close_if_unusable_or_obsolete(self):
        # Called at the start and the end of each request (and each Celery task). At the end,
        # health_check_done says whether the request took a cursor since the last call.
        proven = self.connection is not None and self.health_check_done
        proven = proven and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if self.connection is None:
            self.proven_alive_at = None
        elif proven:
            self.proven_alive_at = time.monotonic()

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and not self.health_check_done
            and self.proven_alive_at is not None
            and time.monotonic() - self.proven_alive_at < self.health_check_grace
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self):
        self.proven_alive_at = None
        super().close()
