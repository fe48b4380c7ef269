"""Quiet by default: the per-second dispatcher's Celery lines are DEBUG (hidden at INFO), other
tasks' lines stay at INFO, and LOG_LEVEL=DEBUG shows them again. Through the configured console
handler (settings.LOGGING), as `make run` prints."""

import io
import logging

import pytest

from backend.common.logging import RoutineTasksAtDebugFilter


@pytest.fixture
def console():
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RoutineTasksAtDebugFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def log_beat_and_worker_lines(task: str, entry: str) -> None:
    logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)", entry, task)
    logging.getLogger("celery.worker.strategy").info("Task %s[%s] received", task, "abc")
    logging.getLogger("celery.app.trace").info(
        "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s",
        {"name": task, "id": "abc", "runtime": 0.01, "return_value": 0},
    )


def test_the_dispatcher_lines_are_hidden_at_info(console):
    log_beat_and_worker_lines("endpoints.dispatch_due_tasks", "endpoints-dispatch-due-tasks")
    assert console.getvalue() == ""


def test_other_tasks_lines_stay_at_info(console):
    log_beat_and_worker_lines("endpoints.purge_finished_tasks", "endpoints-purge-finished-tasks")
    lines = console.getvalue().splitlines()
    assert len(lines) == 3
    assert all(" INFO " in line for line in lines)


def test_log_level_debug_shows_the_dispatcher_lines_as_debug(console):
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.DEBUG)
    try:
        log_beat_and_worker_lines("endpoints.dispatch_due_tasks", "endpoints-dispatch-due-tasks")
    finally:
        root.setLevel(saved)
    lines = console.getvalue().splitlines()
    assert len(lines) == 3
    assert all(" DEBUG " in line and "dispatch_due_tasks" in line for line in lines)


def test_log_level_debug_in_the_environment_shows_them_under_celery_l_info(console, monkeypatch):
    # `celery worker -l INFO` (the Procfile) sets the root logger to INFO whatever LOG_LEVEL says.
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert not logging.getLogger().isEnabledFor(logging.DEBUG)
    log_beat_and_worker_lines("endpoints.dispatch_due_tasks", "endpoints-dispatch-due-tasks")
    lines = console.getvalue().splitlines()
    assert len(lines) == 3
    assert all(" DEBUG " in line and "dispatch_due_tasks" in line for line in lines)


def test_warnings_of_the_dispatcher_are_never_hidden(console):
    logging.getLogger("celery.app.trace").warning("Task endpoints.dispatch_due_tasks[x] failed")
    assert "WARNING" in console.getvalue()
