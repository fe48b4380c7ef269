"""One delivery in-process through the engine's steps: claiming, outcomes, auto-disable, retries."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Membership
from destinations.models import DeliveryAttempt, DeliveryLog, Destination
from destinations.pipeline.engine import delivery_attempt
from destinations.pipeline.outcomes import parse_retry_after, retry_delay
from destinations.services import delivery_logs_requeue
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory, EventFactory
from tests.destinations.sink import verify_signature
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def local_destination(account, sink, allow_local):
    return DestinationFactory(account=account, url=sink.url("/hook"))


def test_it_never_sends_a_finished_log_again(local_destination, sink):
    log = DeliveryLogFactory(destination=local_destination)
    assert delivery_attempt(log_id=log.pk) == "success"
    assert delivery_attempt(log_id=log.pk) == "skipped"
    assert len(sink.received()) == 1
    log.refresh_from_db()
    assert log.status == "success" and log.attempts == 1


def test_it_skips_a_log_another_worker_holds(local_destination, sink):
    log = DeliveryLogFactory(
        destination=local_destination,
        status=DeliveryLog.Status.IN_PROGRESS,
        claimed_until=timezone.now() + timedelta(minutes=1),
    )
    assert delivery_attempt(log_id=log.pk) == "skipped"
    assert sink.received() == []


def test_it_takes_over_a_log_whose_lease_expired(local_destination, sink):
    log = DeliveryLogFactory(
        destination=local_destination,
        status=DeliveryLog.Status.IN_PROGRESS,
        attempts=1,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    assert delivery_attempt(log_id=log.pk) == "success"
    log.refresh_from_db()
    assert log.status == "success" and log.attempts == 2


def test_it_fails_at_once_on_a_4xx(local_destination, sink):
    sink.script("/hook", [{"status": 400, "body": "bad"}])
    log = DeliveryLogFactory(destination=local_destination)
    assert delivery_attempt(log_id=log.pk) == "failed"
    log.refresh_from_db()
    assert log.status == "failed" and log.last_status_code == 400
    assert DeliveryAttempt.objects.get(log=log).response_body == "bad"
    local_destination.refresh_from_db()
    assert local_destination.is_active
    assert local_destination.consecutive_failures == 1


def test_it_schedules_a_retry_in_the_database(local_destination, sink):
    sink.script("/hook", [{"status": 429, "headers": {"Retry-After": "120"}}])
    log = DeliveryLogFactory(destination=local_destination)
    before = timezone.now()
    assert delivery_attempt(log_id=log.pk) == "retry"
    log.refresh_from_db()
    assert log.status == "pending" and log.claim_token is None and log.claimed_until is None
    assert log.next_attempt_at >= before + timedelta(seconds=119)
    # Not due yet: nothing claims it before its time.
    assert delivery_attempt(log_id=log.pk) == "skipped"
    assert len(sink.received()) == 1


def test_it_disables_on_410_holds_logs_and_emails_admins(
    account, admin_user, local_destination, sink, django_capture_on_commit_callbacks
):
    MembershipFactory(account=account, user=UserFactory(), role=Membership.Role.NORMAL_USER)
    sink.script("/hook", [{"status": 410}])
    gone = DeliveryLogFactory(destination=local_destination)
    waiting = DeliveryLogFactory(destination=local_destination)

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_attempt(log_id=gone.pk) == "failed"

    local_destination.refresh_from_db()
    assert not local_destination.is_active
    assert "410" in local_destination.disabled_reason
    waiting.refresh_from_db()
    assert waiting.status == DeliveryLog.Status.HELD
    assert [m.to for m in mail.outbox] == [[admin_user.email]]
    assert local_destination.url in mail.outbox[0].subject


def test_it_disables_after_the_failed_logs_threshold(local_destination, sink, settings):
    settings.DESTINATION_DISABLE_AFTER_FAILED_LOGS = 2
    sink.script("/hook", [{"status": 404}, {"status": 404}])
    for _ in range(2):
        delivery_attempt(log_id=DeliveryLogFactory(destination=local_destination).pk)
    local_destination.refresh_from_db()
    assert not local_destination.is_active
    assert "2 deliveries in a row failed" in local_destination.disabled_reason


def test_it_disables_when_every_attempt_failed_for_the_period(local_destination, sink):
    Destination.objects.filter(pk=local_destination.pk).update(
        failing_since=timezone.now() - timedelta(days=6)
    )
    local_destination.refresh_from_db()
    sink.script("/hook", [{"status": 500}])
    delivery_attempt(log_id=DeliveryLogFactory(destination=local_destination).pk)
    local_destination.refresh_from_db()
    assert not local_destination.is_active
    assert "5 day" in local_destination.disabled_reason


def test_it_resets_failure_tracking_on_success(local_destination, sink):
    Destination.objects.filter(pk=local_destination.pk).update(
        consecutive_failures=3, failing_since=timezone.now()
    )
    delivery_attempt(log_id=DeliveryLogFactory(destination=local_destination).pk)
    local_destination.refresh_from_db()
    assert local_destination.consecutive_failures == 0
    assert local_destination.failing_since is None


def test_it_holds_a_log_whose_destination_was_disabled(local_destination, sink):
    log = DeliveryLogFactory(destination=local_destination)
    Destination.objects.filter(pk=local_destination.pk).update(is_active=False)
    assert delivery_attempt(log_id=log.pk) == "held"
    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.HELD
    assert sink.received() == []


def test_it_jitters_within_the_schedule_and_honours_retry_after(settings):
    settings.DELIVERY_RETRY_SCHEDULE = [0, 5, 300]
    settings.DELIVERY_RETRY_JITTER = 1.0
    delays = [retry_delay(attempt_number=2) for _ in range(50)]
    assert all(0 <= d <= 300 for d in delays) and len(set(delays)) > 1
    assert retry_delay(attempt_number=1, retry_after=60) >= 60
    settings.DELIVERY_RETRY_AFTER_MAX_SECONDS = 100
    assert retry_delay(attempt_number=1, retry_after=10_000) <= 100
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_it_numbers_attempts_on_across_a_replay(local_destination, sink, settings):
    settings.DELIVERY_RETRY_SCHEDULE = [0]  # one attempt per round
    sink.script("/hook", [{"status": 500}, {"status": 200}])
    log = DeliveryLogFactory(destination=local_destination)
    assert delivery_attempt(log_id=log.pk) == "failed"
    requeued = delivery_logs_requeue(logs=DeliveryLog.objects.filter(pk=log.pk))
    assert requeued == 1
    assert delivery_attempt(log_id=log.pk) == "success"
    log.refresh_from_db()
    assert log.attempts == 2
    numbers = list(
        DeliveryAttempt.objects.filter(log=log)
        .order_by("id")
        .values_list("attempt_number", "outcome")
    )
    assert numbers == [(1, "failed"), (2, "success")]


def test_it_delivers_the_body_byte_for_byte_with_its_signature(account, sink, allow_local):
    destination = DestinationFactory(account=account, url=sink.url("/exact"))
    body = '{"z":1,  "a":12345678901234567890.123456789,"u":"\\u00e9"}'
    event = EventFactory(account=account, body=body)
    log = DeliveryLogFactory(destination=destination, event=event)
    assert delivery_attempt(log_id=log.pk) == "success"
    (received,) = sink.received("/exact")
    assert received["body"] == body.encode()
    assert verify_signature(
        secret=destination.signing_secret, headers=received["headers"], body=received["body"]
    )
