"""Seed 002's task routes: `POST /tasks/` and `GET /tasks/{task_id}/` with Celery-style states."""

import pytest

from endpoints.models import ScheduledTask
from endpoints.throttling import AnonTasksRateThrottle
from tests.endpoints.factories import ScheduledTaskFactory

pytestmark = pytest.mark.django_db


def test_it_accepts_an_anonymous_add_task(api_client):
    response = api_client.post("/tasks/", {"type": "add", "x": 5, "y": 3}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"task_id", "status"}
    assert body["status"] == "PENDING"
    task = ScheduledTask.objects.get(pk=body["task_id"])
    assert task.owner is None
    assert (task.task_type, task.parameters) == ("add", {"x": 5, "y": 3})
    status = api_client.get(f"/tasks/{body['task_id']}/")
    assert status.status_code == 200
    assert status.json() == {"task_id": body["task_id"], "status": "PENDING", "result": None}


def test_it_maps_statuses_to_celery_states(api_client):
    expected = {
        "running": ("STARTED", {"progress": 50}),
        "completed": ("SUCCESS", 8),
        "failed": ("FAILURE", "ValueError: boom"),
        "cancelled": ("REVOKED", None),
    }
    for status, (state, result) in expected.items():
        task = ScheduledTaskFactory(
            owner=None,
            status=status,
            result={"progress": 50} if status == "running" else 8,
            error_message="ValueError: boom",
        )
        body = api_client.get(f"/tasks/{task.pk}/").json()
        assert body == {"task_id": str(task.pk), "status": state, "result": result}


def test_it_owns_an_authenticated_callers_task_and_hides_it_from_others(
    auth_client, other_client, api_client, user
):
    for task_type, params in (("long_running", {"duration": 1}), ("process_data", {"data": [1]})):
        response = auth_client.post("/tasks/", {"type": task_type, **params}, format="json")
        assert response.status_code == 202
        task = ScheduledTask.objects.get(pk=response.json()["task_id"])
        assert task.owner == user
        assert auth_client.get(f"/tasks/{task.pk}/").status_code == 200
        assert other_client.get(f"/tasks/{task.pk}/").status_code == 404
        assert api_client.get(f"/tasks/{task.pk}/").status_code == 404
    assert api_client.get("/tasks/not-a-uuid/").status_code == 404


def test_it_refuses_bad_bodies_naming_the_field(api_client):
    cases = [
        ({"x": 5, "y": 3}, "type"),
        ({"type": "shell", "x": 5}, "type"),
        ({"type": "add", "x": 5}, "y"),
        ({"type": "add", "x": "5", "y": 3}, "x"),
        ({"type": "add", "x": 5, "y": 3, "z": 1}, "z"),
        ({"type": "long_running", "duration": 10_000}, "duration"),
    ]
    for body, field in cases:
        response = api_client.post("/tasks/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["details"], (body, response.json())
    response = api_client.post("/tasks/", [1, 2], format="json")
    assert response.status_code == 400
    assert ScheduledTask.objects.count() == 0


def test_it_throttles_anonymous_task_creation(api_client):
    allowed, _ = AnonTasksRateThrottle().parse_rate(AnonTasksRateThrottle().get_rate())
    codes = [
        api_client.post("/tasks/", {"type": "add", "x": 1, "y": 1}, format="json").status_code
        for _ in range(allowed + 1)
    ]
    assert codes == [202] * allowed + [429]
    assert ScheduledTask.objects.count() == allowed


def test_it_checks_api_key_scopes_on_the_compat_routes(user):
    from tests.endpoints.conftest import key_client, make_api_key

    _, read_only = make_api_key(user, scopes=["read"])
    response = key_client(read_only).post("/tasks/", {"type": "add", "x": 1, "y": 1}, format="json")
    assert response.status_code == 403
    _, writer = make_api_key(user)
    response = key_client(writer).post("/tasks/", {"type": "add", "x": 1, "y": 1}, format="json")
    assert response.status_code == 202
    assert ScheduledTask.objects.get().owner == user
