"""Logs API: filters (invalid → 400), cache with version invalidation, detail, retry, replay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from destinations.models import DeliveryAttempt, DeliveryLog
from destinations.pipeline.engine import delivery_attempt
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory, EventFactory


def logs_url(account_id):
    return f"/api/v1/accounts/{account_id}/logs/"


@pytest.fixture
def logs(account):
    """Three logs over two destinations, received one hour apart (oldest first)."""
    first, second = DestinationFactory(account=account), DestinationFactory(account=account)
    now = timezone.now()
    made = []
    for hours, destination, status in [
        (3, first, DeliveryLog.Status.SUCCESS),
        (2, second, DeliveryLog.Status.FAILED),
        (1, first, DeliveryLog.Status.HELD),
    ]:
        received = now - timedelta(hours=hours)
        event = EventFactory(account=account, received_at=received)
        made.append(
            DeliveryLogFactory(
                destination=destination, event=event, status=status, received_timestamp=received
            )
        )
    return made


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_it_lists_logs_newest_first_with_their_shape(member_client, account, logs):
    response = member_client.get(logs_url(account.pk))
    assert ids(response) == [logs[2].pk, logs[1].pk, logs[0].pk]
    row = response.json()["results"][0]
    assert row == {
        "id": logs[2].pk,
        "event_id": logs[2].event.event_id,
        "event_type": "",
        "destination_id": logs[2].destination_id,
        "account": account.pk,
        "status": "held",
        "attempts": 0,
        "last_status_code": None,
        "last_error": "",
        "next_attempt_at": row["next_attempt_at"],
        "received_timestamp": row["received_timestamp"],
        "processed_timestamp": None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def test_it_filters_by_each_field(member_client, account, logs):
    url = logs_url(account.pk)
    assert ids(member_client.get(url, {"status": "failed"})) == [logs[1].pk]
    assert ids(member_client.get(url, {"event_id": logs[0].event.event_id})) == [logs[0].pk]
    assert ids(member_client.get(url, {"destination_id": logs[0].destination_id})) == [
        logs[2].pk,
        logs[0].pk,
    ]
    middle = logs[1].received_timestamp.isoformat()
    assert ids(member_client.get(url, {"received_timestamp__gte": middle})) == [
        logs[2].pk,
        logs[1].pk,
    ]
    assert ids(member_client.get(url, {"received_timestamp__lte": middle})) == [
        logs[1].pk,
        logs[0].pk,
    ]


def test_it_serves_the_seed_003_compat_route(member_client, account, logs):
    response = member_client.get(
        f"/accounts/{account.pk}/logs/",
        {"status": "success", "destination_id": logs[0].destination_id},
    )
    assert ids(response) == [logs[0].pk]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "exploded"),
        ("destination_id", "abc"),
        ("destination_id", "1.5"),
        ("received_timestamp__gte", "yesterday"),
        ("received_timestamp__lte", "2024-13-45"),
    ],
)
def test_it_answers_400_for_invalid_filters(member_client, account, logs, param, value):
    response = member_client.get(logs_url(account.pk), {param: value})
    assert response.status_code == 400
    assert param in response.json()["details"]


def test_it_invalidates_the_cached_list_when_a_log_changes(member_client, account, logs, sink):
    url = logs_url(account.pk)
    assert member_client.get(url, {"status": "held"}).json()["count"] == 1
    # A write behind the cache's back (no version bump) is not seen: the list is cached.
    DeliveryLog.objects.filter(pk=logs[1].pk).update(status=DeliveryLog.Status.HELD)
    assert member_client.get(url, {"status": "held"}).json()["count"] == 1

    # A change through the services bumps the account's logs version: the list is fresh.
    logs[2].destination.url = sink.url("/hook")
    logs[2].destination.save()
    pending = DeliveryLogFactory(destination=logs[2].destination)
    delivery_attempt(log_id=pending.pk)  # refused by the SSRF guard → failed
    statuses = {row["id"]: row["status"] for row in member_client.get(url).json()["results"]}
    assert statuses[pending.pk] == "failed"
    assert member_client.get(url, {"status": "held"}).json()["count"] == 2


def test_it_answers_404_for_another_accounts_logs(admin_client, other_account):
    theirs = DeliveryLogFactory(
        destination=DestinationFactory(account=other_account), status=DeliveryLog.Status.FAILED
    )
    assert admin_client.get(logs_url(other_account.pk)).status_code == 404
    assert admin_client.get(f"/accounts/{other_account.pk}/logs/").status_code == 404
    assert admin_client.get(f"/api/v1/logs/{theirs.pk}/").status_code == 404
    assert admin_client.post(f"/api/v1/logs/{theirs.pk}/retry/").status_code == 404
    replay = admin_client.post(
        f"{logs_url(other_account.pk)}replay/", {"status": "failed"}, format="json"
    )
    assert replay.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == DeliveryLog.Status.FAILED


def test_it_requires_credentials_for_logs(api_client, account):
    assert api_client.get(logs_url(account.pk)).status_code == 401


def test_it_shows_a_log_with_its_attempts(member_client, logs):
    log = logs[1]
    DeliveryAttempt.objects.create(
        log=log,
        attempt_number=1,
        started_at=timezone.now(),
        duration_ms=12,
        status_code=500,
        error="HTTP 500.",
        response_body="boom",
        outcome="retry",
    )
    response = member_client.get(f"/api/v1/logs/{log.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["payload"] == {"key": "value"}
    assert body["delivery_attempts"] == [
        {
            "attempt_number": 1,
            "started_at": body["delivery_attempts"][0]["started_at"],
            "duration_ms": 12,
            "status_code": 500,
            "error": "HTTP 500.",
            "response_body": "boom",
            "outcome": "retry",
        }
    ]


def test_it_lets_an_admin_retry_a_failed_log(admin_client, logs):
    log = logs[1]
    response = admin_client.post(f"/api/v1/logs/{log.pk}/retry/")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.PENDING and log.attempts == 0


def test_it_refuses_to_retry_a_successful_log(admin_client, logs):
    response = admin_client.post(f"/api/v1/logs/{logs[0].pk}/retry/")
    assert response.status_code == 409
    logs[0].refresh_from_db()
    assert logs[0].status == DeliveryLog.Status.SUCCESS


def test_it_forbids_members_to_retry_or_replay(member_client, account, logs):
    assert member_client.post(f"/api/v1/logs/{logs[1].pk}/retry/").status_code == 403
    response = member_client.post(
        f"{logs_url(account.pk)}replay/", {"status": "failed"}, format="json"
    )
    assert response.status_code == 403
    assert DeliveryLog.objects.filter(status=DeliveryLog.Status.FAILED).count() == 1


def test_it_replays_held_logs_in_a_time_range(admin_client, account, logs):
    older_held = DeliveryLogFactory(
        destination=logs[2].destination,
        status=DeliveryLog.Status.HELD,
        received_timestamp=timezone.now() - timedelta(days=2),
    )
    response = admin_client.post(
        f"{logs_url(account.pk)}replay/",
        {
            "status": "held",
            "received_timestamp__gte": (timezone.now() - timedelta(hours=5)).isoformat(),
            "received_timestamp__lte": timezone.now().isoformat(),
            "destination_id": logs[2].destination_id,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"requeued": 1}
    logs[2].refresh_from_db()
    older_held.refresh_from_db()
    assert logs[2].status == DeliveryLog.Status.PENDING
    assert older_held.status == DeliveryLog.Status.HELD


@pytest.mark.parametrize(
    "body",
    [
        {"status": "success"},
        {},
        {"status": "failed", "extra": 1},
        {"status": "failed", "received_timestamp__gte": "x"},
    ],
)
def test_it_refuses_invalid_replay_bodies(admin_client, account, logs, body):
    response = admin_client.post(f"{logs_url(account.pk)}replay/", body, format="json")
    assert response.status_code == 400
    assert response.json()["details"]
    assert DeliveryLog.objects.filter(status=DeliveryLog.Status.PENDING).count() == 0


def test_the_log_detail_shows_the_payload_exactly_as_received(member_client, logs):
    log = logs[1]
    received = '{"amount": 19.90, "big": 1E+2, "name": "caf\\u00e9",  "nested": {"z": 1, "a": 2}}'
    log.event.body = received
    log.event.save(update_fields=["body"])
    response = member_client.get(f"/api/v1/logs/{log.pk}/")
    assert response.status_code == 200
    assert f'"payload":{received}'.encode() in response.content  # byte for byte, not re-printed
    body = response.json()  # still one valid JSON document of the documented shape
    assert body["payload"]["amount"] == 19.9
    assert body["payload"]["nested"] == {"z": 1, "a": 2}
    assert body["id"] == log.pk


def test_a_payload_that_is_not_strict_json_is_shown_parsed_and_safe(member_client, logs):
    log = logs[1]
    log.event.body = '{"x": NaN}'  # never accepted by ingest; an old row must still render
    log.event.save(update_fields=["body"])
    response = member_client.get(f"/api/v1/logs/{log.pk}/")
    assert response.status_code == 200
    assert response.json()["payload"] == '{"x": NaN}'
