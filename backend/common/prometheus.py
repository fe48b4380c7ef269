"""prometheus_client's multiprocess mode: every process of one server writes its own files, and a
scrape sums them over all the server's processes.

Metrics live in the process that counts (no network round trip per increment). With
`PROMETHEUS_MULTIPROC_DIR` set before prometheus_client is imported, each process keeps its values
in memory-mapped files there (`counter_<pid>.db`, ...) and `MultiProcessCollector` adds them up at
scrape time: gunicorn's workers (gunicorn.conf.py) and a Celery worker's prefork children
(backend.common.worker_metrics) each share one directory, cleared when the server starts. Tests
and `manage.py runserver` run without it: one process, plain in-memory metrics.

This module imports prometheus_client only inside functions, so importing it never fixes the mode.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"


def multiproc_dir() -> Path | None:
    """The directory of this process's multiprocess metrics, or None in single-process mode."""
    path = os.environ.get(ENV_VAR)
    return Path(path) if path else None


def reset_multiproc_dir(path: Path) -> None:
    """Creates the directory and removes the files of an earlier run of the server.

    A server's counters start at zero when it starts: files left by a previous run (or by a reused
    pid) would otherwise be added to the new run's totals.
    """
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def use_multiproc_dir(path: Path) -> None:
    """Switches this process to multiprocess mode with `path`; call before metrics are created.

    prometheus_client picks its value class when it is first imported; if something imported it
    already, the choice is made again so that metrics created from now on use the files.
    """
    os.environ[ENV_VAR] = str(path)
    _refresh_value_class()


def use_single_process() -> None:
    """Plain in-memory metrics for this process (a directory inherited from a parent is ignored)."""
    os.environ.pop(ENV_VAR, None)
    os.environ.pop(ENV_VAR.lower(), None)
    _refresh_value_class()


def _refresh_value_class() -> None:
    import sys

    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]  # not in its stubs


def mark_process_dead(pid: int) -> None:
    """Drops the live-gauge files of an exited process; its counters keep counting in the sum."""
    if multiproc_dir() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]  # untyped upstream


def multiprocess_registry(path: Path | None = None) -> "CollectorRegistry":
    """A registry that reads the sum over every process writing to `path` (default: this
    process's directory)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path) if path else None)  # type: ignore[no-untyped-call]
    return registry
