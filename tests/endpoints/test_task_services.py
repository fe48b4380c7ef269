"""Scheduled-task services: claim-once, cancel vs run, dispatch, broker down, reaper, purge."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from endpoints import services
from endpoints.models import ScheduledTask
from tests.endpoints.factories import ScheduledTaskFactory


def due_task(**kwargs) -> ScheduledTask:
    kwargs.setdefault("scheduled_at", timezone.now() - timedelta(seconds=1))
    return ScheduledTaskFactory(**kwargs)


@pytest.mark.django_db
def test_it_runs_a_due_task_and_records_the_result():
    task = due_task(parameters={"x": 5, "y": 3})
    assert services.scheduled_task_run(task_id=task.pk, celery_task_id="abc") == "completed"
    task.refresh_from_db()
    assert task.status == "completed"
    assert task.result == 8
    assert task.attempts == 1
    assert task.celery_task_id == "abc"
    assert task.started_at >= task.scheduled_at
    assert task.completed_at >= task.started_at
    assert services.scheduled_task_run(task_id=task.pk) == "skipped"
    task.refresh_from_db()
    assert task.attempts == 1


@pytest.mark.django_db
def test_it_does_not_run_a_task_before_its_time_or_after_cancel():
    early = ScheduledTaskFactory()
    assert services.scheduled_task_run(task_id=early.pk) == "skipped"
    early.refresh_from_db()
    assert early.status == "pending" and early.attempts == 0
    cancelled = due_task()
    services.scheduled_task_cancel(task=cancelled)
    assert services.scheduled_task_run(task_id=cancelled.pk) == "skipped"
    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled" and cancelled.started_at is None


@pytest.mark.django_db
def test_it_records_a_failure():
    task = due_task(task_type="add", parameters={"x": 1})  # bypasses validation: KeyError
    assert services.scheduled_task_run(task_id=task.pk) == "failed"
    task.refresh_from_db()
    assert task.status == "failed"
    assert task.error_message == "KeyError: 'y'"
    assert task.completed_at is not None


@pytest.mark.django_db
def test_it_summarises_data():
    task = due_task(task_type="process_data", parameters={"data": [1, 2, 3.5, "x"]})
    services.scheduled_task_run(task_id=task.pk)
    task.refresh_from_db()
    assert task.result == {
        "type": "list",
        "count": 4,
        "sum": 6.5,
        "min": 1,
        "max": 3.5,
        "size_bytes": 13,
    }


def _race(target, n: int = 2) -> list:
    """Runs `target` in n threads released together; returns their results."""
    barrier = threading.Barrier(n)
    results: list = []

    def run():
        barrier.wait(timeout=10)
        try:
            results.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_task_once_when_two_workers_race():
    task = due_task(parameters={"x": 2, "y": 2})
    results = _race(lambda: services.scheduled_task_run(task_id=task.pk), n=4)
    assert sorted(results) == ["completed", "skipped", "skipped", "skipped"]
    task.refresh_from_db()
    assert task.attempts == 1 and task.result == 4


@pytest.mark.django_db(transaction=True)
def test_it_sends_a_due_task_once_when_two_dispatchers_race():
    task = due_task()
    results = _race(services.scheduled_task_dispatch_due, n=2)
    assert sorted(results) == [0, 1]
    task.refresh_from_db()
    assert task.dispatched_at is not None
    # Sent recently: the next ticks leave it alone until the re-send timeout.
    assert services.scheduled_task_dispatch_due() == 0
    ScheduledTask.objects.filter(pk=task.pk).update(
        dispatched_at=timezone.now() - timedelta(seconds=settings.TASK_REDISPATCH_AFTER_SECONDS + 1)
    )
    assert services.scheduled_task_dispatch_due() == 1


@pytest.mark.django_db(transaction=True)
def test_it_keeps_a_task_pending_when_the_broker_is_down(auth_client, broker_down):
    response = auth_client.post(
        "/api/v1/tasks/",
        {"name": "t", "task_type": "add", "parameters": {"x": 1, "y": 1}},
        format="json",
    )
    assert response.status_code == 201
    task = ScheduledTask.objects.get(pk=response.json()["id"])
    assert task.status == "pending"
    # Not marked as sent, so the dispatcher's next tick sends it.
    assert task.dispatched_at is None
    compat = auth_client.post("/tasks/", {"type": "add", "x": 1, "y": 2}, format="json")
    assert compat.status_code == 202


@pytest.mark.django_db
def test_it_reaps_tasks_left_running_by_a_lost_worker():
    limit = settings.CELERY_TASK_TIME_LIMIT + settings.TASK_STUCK_MARGIN_SECONDS
    stuck = ScheduledTaskFactory(
        status="running", started_at=timezone.now() - timedelta(seconds=limit + 5)
    )
    fresh = ScheduledTaskFactory(status="running", started_at=timezone.now())
    assert services.scheduled_task_reap_stuck() == 1
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, stuck.error_message) == ("failed", "worker lost")
    assert fresh.status == "running"


@pytest.mark.django_db
def test_it_purges_old_finished_tasks_only():
    old = timezone.now() - timedelta(days=settings.TASK_RETENTION_DAYS + 1)
    purged = [ScheduledTaskFactory(status=s) for s in ("completed", "failed", "cancelled")]
    kept = [
        ScheduledTaskFactory(status="completed"),
        ScheduledTaskFactory(status="pending"),
        ScheduledTaskFactory(status="running"),
    ]
    ScheduledTask.objects.filter(pk__in=[t.pk for t in purged] + [kept[1].pk, kept[2].pk]).update(
        updated_at=old
    )
    assert services.scheduled_task_purge_finished() == 3
    assert set(ScheduledTask.objects.values_list("pk", flat=True)) == {t.pk for t in kept}
