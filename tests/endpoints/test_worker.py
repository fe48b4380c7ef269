"""With a real worker + beat: scheduled tasks run once after their time; cancelled ones never."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from endpoints.models import ScheduledTask
from tests.support.metrics import metric_delta, metric_value
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]

DISPATCHER_RUN = re.compile(r"Task endpoints\.dispatch_due_tasks\[[^\]]+\] succeeded")


def dispatcher_runs(worker) -> int:
    """How many times the worker has finished the beat's dispatcher task (its log says so)."""
    return len(DISPATCHER_RUN.findall(worker.logs()))


def test_it_runs_scheduled_tasks_once_on_time_and_never_a_cancelled_one(
    celery_worker_process, auth_client, api_client
):
    web_before = api_client.get("/metrics").content.decode()
    # Both tasks fall due in 3 s; the cancel is made before any worker exists, so it never races
    # the dispatcher however slow the machine is.
    soon = (timezone.now() + timedelta(seconds=3)).isoformat()
    created = auth_client.post(
        "/api/v1/tasks/",
        {
            "name": "later",
            "task_type": "add",
            "parameters": {"x": 2, "y": 40},
            "scheduled_at": soon,
        },
        format="json",
    )
    assert created.status_code == 201
    later_id = created.json()["id"]
    doomed = auth_client.post(
        "/api/v1/tasks/",
        {
            "name": "doomed",
            "task_type": "add",
            "parameters": {"x": 1, "y": 1},
            "scheduled_at": soon,
        },
        format="json",
    ).json()["id"]
    assert auth_client.post(f"/api/v1/tasks/{doomed}/cancel/").status_code == 200
    assert ScheduledTask.objects.get(pk=doomed).status == "cancelled"
    # The dispatcher's per-second lines are at DEBUG by default (a quiet `make run`); this test
    # counts them.
    worker = celery_worker_process(beat=True, loglevel="DEBUG", extra_env={"LOG_LEVEL": "DEBUG"})

    # Seed 002: due now, sent right after commit.
    seed = api_client.post("/tasks/", {"type": "add", "x": 5, "y": 3}, format="json")
    assert seed.status_code == 202
    seed_id = seed.json()["task_id"]
    final = wait_until(
        lambda: (b := api_client.get(f"/tasks/{seed_id}/").json())["status"] == "SUCCESS" and b,
        timeout=30,
        message=f"seed task did not succeed:\n{worker.logs()[-3000:]}",
    )
    assert final == {"task_id": seed_id, "status": "SUCCESS", "result": 8}

    task = wait_until(
        lambda: ScheduledTask.objects.filter(pk=later_id, status="completed").first(),
        timeout=30,
        message=f"scheduled task did not run:\n{worker.logs()[-3000:]}",
    )
    assert task.result == 42
    assert task.attempts == 1
    assert task.started_at >= task.scheduled_at
    status = auth_client.get(f"/api/v1/tasks/{later_id}/status/").json()
    assert status["status"] == "completed" and status["result"] == 42

    # Two more dispatcher runs after it, both past the cancelled task's time: it stays untouched.
    runs = dispatcher_runs(worker)
    wait_until(
        lambda: dispatcher_runs(worker) >= runs + 2,
        timeout=30,
        message=f"the dispatcher did not run again:\n{worker.logs()[-3000:]}",
    )
    cancelled = ScheduledTask.objects.get(pk=doomed)
    assert cancelled.status == "cancelled"
    assert cancelled.started_at is None and cancelled.attempts == 0
    task.refresh_from_db()
    assert task.attempts == 1

    # Outcomes counted by the worker show on the worker's own metrics endpoint; the cancel,
    # counted by the web process that handled it, on the web's /metrics.
    name = "scheduled_task_outcomes_total"
    at_worker = worker.metrics()
    assert metric_value(at_worker, name, task_type="add", status="completed") == 2
    assert metric_value(at_worker, name, task_type="add", status="failed") == 0
    assert metric_value(at_worker, name, task_type="add", status="cancelled") == 0
    web_after = api_client.get("/metrics").content.decode()
    assert metric_delta(web_before, web_after, name, task_type="add", status="cancelled") == 1
    assert metric_delta(web_before, web_after, name, task_type="add", status="completed") == 0


def test_it_reports_progress_of_a_long_running_task(celery_worker_process, auth_client):
    worker = celery_worker_process(beat=True)
    created = auth_client.post(
        "/api/v1/tasks/",
        {"name": "slow", "task_type": "long_running", "parameters": {"duration": 3}},
        format="json",
    ).json()
    running = wait_until(
        lambda: (
            (t := ScheduledTask.objects.get(pk=created["id"])).status == "running"
            and t.result
            and t
        ),
        timeout=30,
        message=f"no progress reported:\n{worker.logs()[-3000:]}",
    )
    assert 0 <= running.result["progress"] < 100
    done = wait_until(
        lambda: ScheduledTask.objects.filter(pk=created["id"], status="completed").first(),
        timeout=30,
    )
    assert done.result == {"progress": 100, "elapsed_seconds": 3}
