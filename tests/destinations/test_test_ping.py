"""POST /api/v1/destinations/{id}/test/: a signed system.test event to that destination only."""

import json
from datetime import datetime

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from destinations.models import DeliveryAttempt, DeliveryLog, Event
from tests.destinations.factories import DestinationFactory
from tests.support.worker import wait_until


def ping_url(destination) -> str:
    return f"/api/v1/destinations/{destination.pk}/test/"


def test_it_stores_the_event_and_its_one_log(admin_client, account, destination):
    other = DestinationFactory(account=account, event_types=["system.*"])
    before = timezone.now()
    response = admin_client.post(ping_url(destination))
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"event_id", "log_id"}
    event = Event.objects.get(event_id=body["event_id"])
    assert event.account_id == account.pk
    assert event.event_type == "system.test"
    assert event.fanned_out_at is not None  # the fan-out never sees it: no other destination
    payload = json.loads(event.body)
    assert payload["destination_id"] == destination.pk
    assert datetime.fromisoformat(payload["sent_at"]) >= before
    log = DeliveryLog.objects.get(pk=body["log_id"])
    assert (log.event_id, log.destination_id, log.status) == (event.pk, destination.pk, "pending")
    assert log.next_attempt_at is not None and log.next_attempt_at <= timezone.now()
    assert list(event.logs.values_list("destination_id", flat=True)) == [destination.pk]
    assert not DeliveryLog.objects.filter(destination=other).exists()


def test_a_normal_member_gets_403(member_client, destination):
    response = member_client.post(ping_url(destination))
    assert response.status_code == 403
    assert "error" in response.json()
    assert not Event.objects.exists()


def test_other_tenants_get_404(outsider_client, destination):
    response = outsider_client.post(ping_url(destination))
    assert response.status_code == 404
    assert not Event.objects.exists()


def test_a_disabled_destination_answers_409_and_stores_nothing(admin_client, account):
    disabled = DestinationFactory(account=account, is_active=False)
    response = admin_client.post(ping_url(disabled))
    assert response.status_code == 409
    assert "disabled" in response.json()["error"]
    assert not Event.objects.exists() and not DeliveryLog.objects.exists()


@pytest.mark.worker
@pytest.mark.slow
def test_a_real_worker_delivers_the_ping_signed_to_that_destination_only(
    celery_worker_process, admin_client, account, sink
):
    target = DestinationFactory(account=account, url=sink.url("/target"))
    # Subscribed to every system event: it still must not get the ping.
    bystander = DestinationFactory(
        account=account, url=sink.url("/other"), event_types=["system.*"]
    )
    untyped = DestinationFactory(account=account, url=sink.url("/all"))
    celery_worker_process(extra_env={"DESTINATION_ALLOWED_HOSTS": "127.0.0.1"})

    body = admin_client.post(ping_url(target)).json()
    wait_until(
        lambda: DeliveryLog.objects.get(pk=body["log_id"]).status == "success",
        message="the ping is delivered",
    )
    (request,) = sink.received("/target")
    headers = request["headers"]
    payload = Webhook(target.signing_secret).verify(request["body"], headers)
    assert payload["destination_id"] == target.pk
    assert headers["cl-x-event-type"] == "system.test"
    assert headers["webhook-id"] == body["event_id"]
    attempt = DeliveryAttempt.objects.get(log_id=body["log_id"])
    assert (attempt.outcome, attempt.status_code, attempt.destination_id) == (
        "success",
        200,
        target.pk,
    )
    assert sink.received("/other") == [] and sink.received("/all") == []
    assert not DeliveryLog.objects.filter(destination__in=[bystander, untyped]).exists()
