"""The scheduled tasks API: create, list with filters, status, cancel, update, delete, tenancy."""

from datetime import timedelta

import pytest
from django.utils import timezone

from endpoints.models import ScheduledTask
from tests.endpoints.factories import ScheduledTaskFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks/"


def future(seconds: int = 3600) -> str:
    return (timezone.now() + timedelta(seconds=seconds)).isoformat()


def test_it_creates_a_task_from_the_seed_body_with_the_default_type(auth_client, user):
    response = auth_client.post(
        URL, {"name": "My Task", "scheduled_at": "2030-03-30T12:00:00Z"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "My Task"
    assert body["task_type"] == "process_data"
    assert body["parameters"] == {"data": None}
    assert body["status"] == "pending"
    assert body["scheduled_at"] == "2030-03-30T12:00:00Z"
    assert body["result"] is None and body["attempts"] == 0
    task = ScheduledTask.objects.get(pk=body["id"])
    assert task.owner == user


def test_it_validates_type_and_parameters_naming_the_field(auth_client, settings):
    # Below the 64 KiB body cap (a larger body is refused with 413 before parsing).
    settings.TASK_PARAMETERS_MAX_BYTES = 1000
    cases = [
        ({"name": "t", "task_type": "rm -rf"}, "task_type", None),
        ({"name": "t", "task_type": "add", "parameters": {"x": 1}}, "parameters", "y"),
        ({"name": "t", "task_type": "add", "parameters": {"x": "1", "y": 2}}, "parameters", "x"),
        ({"name": "t", "task_type": "add", "parameters": {"x": True, "y": 2}}, "parameters", "x"),
        ({"name": "t", "task_type": "add", "parameters": {"x": 1e300, "y": 2}}, "parameters", "x"),
        (
            {"name": "t", "task_type": "add", "parameters": {"x": 1, "y": 2, "z": 3}},
            "parameters",
            "z",
        ),
        (
            {"name": "t", "task_type": "long_running", "parameters": {"duration": 3600}},
            "parameters",
            "duration",
        ),
        (
            {"name": "t", "task_type": "process_data", "parameters": {"data": "x" * 2000}},
            "parameters",
            None,
        ),
        ({"name": "t", "parameters": [1, 2]}, "parameters", None),
        ({"name": "t", "status": "completed"}, "status", None),
        ({"name": "t", "owner": "someone"}, "owner", None),
        ({"task_type": "add"}, "name", None),
        ({"name": "t", "scheduled_at": "tomorrow"}, "scheduled_at", None),
    ]
    for body, field, subfield in cases:
        response = auth_client.post(URL, body, format="json")
        assert response.status_code == 400, body
        details = response.json()["details"]
        assert field in details, (body, details)
        if subfield:
            assert subfield in details[field], (body, details)
    assert ScheduledTask.objects.count() == 0


def test_it_lists_own_tasks_paginated_with_filters(auth_client, user, other_user):
    ScheduledTaskFactory(owner=user, task_type="add")
    ScheduledTaskFactory(owner=user, task_type="process_data", parameters={"data": 1})
    ScheduledTaskFactory(owner=user, status=ScheduledTask.Status.CANCELLED)
    ScheduledTaskFactory(owner=other_user)
    body = auth_client.get(URL).json()
    assert body["count"] == 3
    assert set(body) == {"count", "next", "previous", "results"}
    assert auth_client.get(URL, {"status": "cancelled"}).json()["count"] == 1
    assert auth_client.get(URL, {"task_type": "process_data"}).json()["count"] == 1
    assert auth_client.get(URL, {"status": "bogus"}).status_code == 400


def test_it_shows_status_and_cancels_a_pending_task(auth_client, user):
    task = ScheduledTaskFactory(owner=user)
    status = auth_client.get(f"{URL}{task.pk}/status/")
    assert status.status_code == 200
    assert set(status.json()) == {
        "id",
        "status",
        "result",
        "error_message",
        "scheduled_at",
        "started_at",
        "completed_at",
        "created_at",
        "updated_at",
    }
    assert status.json()["status"] == "pending"
    response = auth_client.post(f"{URL}{task.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["message"] == "Task cancelled successfully"
    assert response.json()["task"]["status"] == "cancelled"
    assert auth_client.get(f"{URL}{task.pk}/status/").json()["status"] == "cancelled"
    again = auth_client.post(f"{URL}{task.pk}/cancel/")
    assert again.status_code == 409
    assert "cancelled" in again.json()["error"]


def test_it_updates_only_a_pending_task(auth_client, user):
    task = ScheduledTaskFactory(owner=user)
    response = auth_client.patch(
        f"{URL}{task.pk}/", {"parameters": {"x": 10, "y": 20}}, format="json"
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.parameters == {"x": 10, "y": 20}
    assert task.task_type == "add" and task.name.startswith("Task")
    bad = auth_client.patch(f"{URL}{task.pk}/", {"parameters": {"x": 10}}, format="json")
    assert bad.status_code == 400
    assert "y" in bad.json()["details"]["parameters"]
    put = auth_client.put(
        f"{URL}{task.pk}/",
        {"name": "new", "task_type": "long_running", "parameters": {"duration": 1}},
        format="json",
    )
    assert put.status_code == 200
    assert put.json()["task_type"] == "long_running"
    ScheduledTask.objects.filter(pk=task.pk).update(status=ScheduledTask.Status.COMPLETED)
    response = auth_client.patch(f"{URL}{task.pk}/", {"name": "late"}, format="json")
    assert response.status_code == 409
    task.refresh_from_db()
    assert task.name == "new"


def test_it_deletes_a_task(auth_client, user):
    task = ScheduledTaskFactory(owner=user)
    assert auth_client.delete(f"{URL}{task.pk}/").status_code == 204
    assert not ScheduledTask.objects.filter(pk=task.pk).exists()


def test_it_answers_404_for_another_users_task(other_client, user):
    task = ScheduledTaskFactory(owner=user)
    detail = f"{URL}{task.pk}/"
    assert other_client.get(detail).status_code == 404
    assert other_client.get(f"{detail}status/").status_code == 404
    assert other_client.patch(detail, {"name": "x"}, format="json").status_code == 404
    assert other_client.post(f"{detail}cancel/").status_code == 404
    assert other_client.delete(detail).status_code == 404
    task.refresh_from_db()
    assert task.status == "pending" and task.name.startswith("Task")


def test_it_requires_authentication(api_client):
    response = api_client.post(URL, {"name": "t"}, format="json")
    assert response.status_code == 401
    assert response.has_header("WWW-Authenticate")
    assert ScheduledTask.objects.count() == 0
