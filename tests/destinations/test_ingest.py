"""Ingest: authentication (CL-X-TOKEN, API key, JWT alongside), body rules, idempotency, throttle."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Membership
from destinations.models import DeliveryLog, Event
from destinations.pipeline.fanout import events_fan_out
from destinations.pipeline.ingest import event_ingest
from destinations.throttling import IngestRateThrottle
from endpoints.services import api_key_create
from tests.conftest import jwt_client
from tests.destinations.factories import DestinationFactory
from tests.factories import MembershipFactory
from tests.support.metrics import metric_delta

URL = "/api/v1/incoming-data/"
COMPAT_URL = "/server/incoming_data/"


def token_client(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_CL_X_TOKEN=str(account.app_secret_token))
    return client


def test_it_stores_the_event_and_the_worker_fans_it_out(account):
    active = DestinationFactory(account=account)
    inactive = DestinationFactory(account=account, is_active=False)

    response = token_client(account).post(URL, {"key": "value"}, format="json")

    assert response.status_code == 200, response.content
    event = Event.objects.get()
    assert response.json() == {"message": "Data Received", "event_id": event.event_id}
    assert event.payload == {"key": "value"} and event.account == account
    # The request stored the event only; the fan-out (in the worker) makes one log per destination.
    assert event.fanned_out_at is None and not DeliveryLog.objects.exists()
    assert events_fan_out() == 1
    statuses = dict(DeliveryLog.objects.values_list("destination_id", "status"))
    assert statuses == {active.pk: "pending", inactive.pk: "held"}
    event.refresh_from_db()
    assert event.fanned_out_at is not None
    assert events_fan_out() == 0  # once
    assert DeliveryLog.objects.count() == 2


def seed_003_client(user, account) -> APIClient:
    """Seed 003's curl: the user's token and the account's CL-X-TOKEN together."""
    client = jwt_client(user)
    client.credentials(
        HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],
        HTTP_CL_X_TOKEN=str(account.app_secret_token),
    )
    return client


def test_it_accepts_the_seed_003_call_with_a_jwt_and_cl_x_token(account, admin_user, member_user):
    for user in (admin_user, member_user):
        response = seed_003_client(user, account).post(COMPAT_URL, {"k": 1}, format="json")
        assert response.status_code == 200, response.content
    assert Event.objects.filter(account=account).count() == 2


def test_it_refuses_a_user_token_of_a_non_member_with_the_cl_x_token(
    account, admin_user, other_account
):
    # admin_user administers `account`, not `other_account`: its CL-X-TOKEN is not theirs to use.
    response = seed_003_client(admin_user, other_account).post(URL, {"k": 1}, format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"error", "details"}
    assert not Event.objects.exists()


def test_it_stops_taking_an_old_cl_x_token_at_once_after_rotation(
    account, admin_client, django_capture_on_commit_callbacks
):
    client = token_client(account)
    assert client.post(URL, {"n": 1}, format="json").status_code == 200  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        rotated = admin_client.post(f"/api/v1/accounts/{account.pk}/rotate-secret/")
    assert rotated.status_code == 200
    assert client.post(URL, {"n": 2}, format="json").status_code == 401
    fresh = APIClient()
    fresh.credentials(HTTP_CL_X_TOKEN=rotated.json()["app_secret_token"])
    assert fresh.post(URL, {"n": 3}, format="json").status_code == 200
    assert Event.objects.count() == 2


def test_it_stores_the_event_when_the_account_has_no_destination(account):
    response = token_client(account).post(URL, {"a": 1}, format="json")
    assert response.status_code == 200
    assert Event.objects.count() == 1
    assert DeliveryLog.objects.count() == 0


@pytest.mark.parametrize("token", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", ""])
def test_it_answers_401_for_a_bad_cl_x_token(account, token):
    client = APIClient()
    client.credentials(HTTP_CL_X_TOKEN=token)
    response = client.post(URL, {"a": 1}, format="json")
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid CL-X-TOKEN."
    assert not Event.objects.exists()


def test_it_answers_401_without_credentials(db):
    response = APIClient().post(COMPAT_URL, {"a": 1}, format="json")
    assert response.status_code == 401
    assert set(response.json()) == {"error", "details"}
    assert "WWW-Authenticate" in response
    assert not Event.objects.exists()


def test_it_answers_401_for_a_bad_jwt_even_with_a_valid_token(account):
    client = token_client(account)
    client.credentials(
        HTTP_CL_X_TOKEN=str(account.app_secret_token), HTTP_AUTHORIZATION="Bearer not.a.jwt"
    )
    response = client.post(URL, {"a": 1}, format="json")
    assert response.status_code == 401
    assert not Event.objects.exists()


def test_it_accepts_an_account_api_key_with_the_ingest_scope(account, admin_user):
    _, raw = api_key_create(user=admin_user, name="k", account_id=account.pk, scopes=["ingest"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    response = client.post(URL, {"a": 1}, format="json")
    assert response.status_code == 200, response.content
    assert Event.objects.get().account == account


def test_it_refuses_an_api_key_whose_owner_left_the_account(account, admin_user):
    _, raw = api_key_create(user=admin_user, name="k", account_id=account.pk, scopes=["ingest"])
    account.memberships.filter(user=admin_user).delete()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    response = client.post(URL, {"a": 1}, format="json")
    assert response.status_code == 403
    assert "no longer a member" in response.json()["error"]
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("bound", "scopes"),
    [(False, ["ingest"]), (True, ["read", "write"])],
    ids=["unbound", "noscope"],
)
def test_it_answers_403_for_an_api_key_that_cannot_ingest(account, admin_user, bound, scopes):
    _, raw = api_key_create(
        user=admin_user, name="k", account_id=account.pk if bound else None, scopes=scopes
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.post(URL, {"a": 1}, format="json")
    assert response.status_code == 403
    assert not Event.objects.exists()


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null", b"{not json"])
def test_it_refuses_bodies_that_are_not_a_json_object(account, body):
    response = token_client(account).post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"error", "details"}
    assert not Event.objects.exists()


def test_it_answers_413_for_a_body_over_the_limit(account, settings):
    settings.INGEST_MAX_BODY_BYTES = 100
    response = token_client(account).post(URL, {"x": "y" * 200}, format="json")
    assert response.status_code == 413
    assert set(response.json()) == {"error", "details"}
    assert not Event.objects.exists()


def test_it_answers_a_repeated_event_id_once(account, destination):
    client = token_client(account)
    first = client.post(URL, {"n": 1}, format="json", HTTP_CL_X_EVENT_ID="order-42")
    second = client.post(URL, {"n": 2}, format="json", HTTP_CL_X_EVENT_ID="order-42")

    assert first.json() == {"message": "Data Received", "event_id": "order-42"}
    assert second.status_code == 200
    assert second.json() == {"message": "Data Received", "event_id": "order-42", "duplicate": True}
    assert Event.objects.get().payload == {"n": 1}
    events_fan_out()
    assert DeliveryLog.objects.count() == 1


def test_it_refuses_an_overlong_event_id(account):
    response = token_client(account).post(
        URL, {"n": 1}, format="json", HTTP_CL_X_EVENT_ID="x" * 256
    )
    assert response.status_code == 400
    assert "CL-X-EVENT-ID" in response.json()["details"]


def test_it_stores_one_event_when_duplicates_race(transactional_db, account, destination):
    barrier = threading.Barrier(4)
    results = []

    def ingest():
        try:
            barrier.wait(5)
            results.append(event_ingest(account_id=account.pk, body='{"r":1}', event_id="race-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert len(results) == 4
    assert sum(1 for _, created in results if created) == 1
    assert Event.objects.filter(event_id="race-1").count() == 1
    events_fan_out()
    assert DeliveryLog.objects.count() == 1


def test_it_throttles_a_caller_at_5_per_second(account, monkeypatch):
    # The clock stands still, so a slow machine cannot spread the calls over two seconds.
    monkeypatch.setattr(IngestRateThrottle, "timer", staticmethod(lambda: 1_800_000_000.0))
    client = token_client(account)
    statuses = [client.post(URL, {"i": i}, format="json").status_code for i in range(6)]

    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    limited = client.post(URL, {"i": 7}, format="json")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert set(limited.json()) == {"error", "details"}
    assert Event.objects.count() == 5


def test_it_counts_ingest_outcomes_on_the_web_metrics(account, api_client):
    before = api_client.get("/metrics").content.decode()
    client = token_client(account)
    client.post(URL, {"a": 1}, format="json")
    client.post(URL, {"a": 1}, format="json", HTTP_CL_X_EVENT_ID="e-1")
    client.post(URL, {"a": 1}, format="json", HTTP_CL_X_EVENT_ID="e-1")
    client.post(URL, [1], format="json")
    after = api_client.get("/metrics").content.decode()
    name = "destinations_ingest_requests_total"
    assert metric_delta(before, after, name, outcome="accepted") == 2
    assert metric_delta(before, after, name, outcome="duplicate") == 1
    assert metric_delta(before, after, name, outcome="rejected") == 1


@pytest.mark.parametrize(
    "raw",
    [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"[" * 100_000 + b"]" * 100_000,
     b'{"a": 1', b"\xff\xfe", b'"just a string"', b""],
)  # fmt: skip
def test_it_refuses_bodies_json_or_the_database_would_choke_on_with_a_400(account, raw):
    response = token_client(account).post(URL, raw, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert set(response.json()) == {"error", "details"}
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [b'{"big": 12345678901234567890.123456789}', b'{"huge": 1e400}', b'{"nul": "a\\u0000b"}',
     b'{"lone": "\\ud800"}', b'{"z": 1,   "a": [1.0, 2.50]}'],
)  # fmt: skip
def test_it_keeps_unusual_but_valid_bodies_exactly_as_sent(account, raw):
    response = token_client(account).post(URL, raw, content_type="application/json")
    assert response.status_code == 200, response.content
    assert Event.objects.get().body.encode() == raw


def test_an_account_bound_key_cannot_speak_for_another_account_of_its_owner(
    account, admin_user, other_account
):
    # The key's owner administers both accounts, but the key is bound to `account` only: next to
    # the other account's CL-X-TOKEN it is refused, and nothing lands in either account.
    MembershipFactory(account=other_account, user=admin_user, role=Membership.Role.ADMIN)
    _, raw = api_key_create(user=admin_user, name="k", account_id=account.pk, scopes=["ingest"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw, HTTP_CL_X_TOKEN=str(other_account.app_secret_token))
    response = client.post(URL, {"a": 1}, format="json")
    assert response.status_code == 403
    assert not Event.objects.exists()
