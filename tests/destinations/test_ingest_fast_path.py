"""The warm ingest path: each documented way of calling it costs one cache round trip and one
database statement (the INSERT of the event); a refusal cached before a grant does not outlive
it; only the ingest views skip the usual credential checks. (Refusals with the cache up, flushed
and down: test_ingest_refusals_across_processes.py.)"""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import membership_add
from destinations.ingest_views import CompatIngestView, IngestView
from destinations.models import Event
from destinations.permissions import IngestCallerPermission
from endpoints.services import api_key_create
from tests.factories import MembershipFactory, UserFactory

URL = "/api/v1/incoming-data/"
CACHE_CALLS = ("get", "get_many", "set", "set_many", "add", "delete", "delete_many", "incr")


@pytest.fixture(autouse=True)
def no_ingest_throttle(settings):
    # The throttle's own round trips (a read and a write) are the throttle's, not the caller's.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "ingest": "none",
        },
    }


@pytest.fixture
def cache_calls(monkeypatch):
    """Names of the calls made on the shared cache (the real one: each wrapper calls through)."""
    calls: list[str] = []
    depth = [0]  # the file cache's get_many calls get per key: count the caller's call only
    backend = caches["default"]
    for name in CACHE_CALLS:
        original = getattr(backend, name)

        def counting(*args, _name=name, _original=original, **kwargs):
            if not depth[0]:
                calls.append(_name)
            depth[0] += 1
            try:
                return _original(*args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(backend, name, counting)
    return calls


def callers(account):
    """The three documented calls: CL-X-TOKEN alone, seed 003's JWT + CL-X-TOKEN, an API key."""
    user = UserFactory()
    MembershipFactory(account=account, user=user)
    _, raw_key = api_key_create(user=user, name="ingest", account_id=account.pk, scopes=["ingest"])
    token = str(account.app_secret_token)
    jwt = str(RefreshToken.for_user(user).access_token)
    return {
        "token": {"HTTP_CL_X_TOKEN": token},
        "jwt+token": {"HTTP_AUTHORIZATION": f"Token {jwt}", "HTTP_CL_X_TOKEN": token},
        "api key": {"HTTP_X_API_KEY": raw_key},
    }


@pytest.mark.parametrize("call", ["token", "jwt+token", "api key"])
def test_a_warm_call_is_one_cache_round_trip_and_one_insert(account, cache_calls, call):
    headers = callers(account)[call]
    client = APIClient()
    # Cold: the answers come from the database and are cached for the next calls.
    assert client.post(URL, {"n": 0}, format="json", **headers).status_code == 200
    # The rows created above marked their answers as changed for a while: a second cold call
    # after that spell fills the cache (simulated by clearing it).
    caches["default"].clear()
    assert client.post(URL, {"n": 1}, format="json", **headers).status_code == 200

    cache_calls.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, {"n": 2}, format="json", **headers)

    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in queries.captured_queries]
    inserts = [sql for sql in statements if sql.upper().startswith("INSERT")]
    assert len(inserts) == 1 and "destinations_event" in inserts[0], statements
    # Only the INSERT, plus the savepoint statements the test's transaction wraps it in.
    assert all("SAVEPOINT" in sql.upper() for sql in statements if sql not in inserts), statements
    assert cache_calls == ["get_many"], cache_calls
    assert Event.objects.filter(account=account).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_refusal_cached_before_a_grant_does_not_outlive_it(account):
    """Added as a member (or activated again) after a refused call: the next call is accepted."""
    user = UserFactory(is_active=False)
    jwt = str(RefreshToken.for_user(user).access_token)
    headers = {
        "HTTP_AUTHORIZATION": f"Token {jwt}",
        "HTTP_CL_X_TOKEN": str(account.app_secret_token),
    }
    client = APIClient()
    caches["default"].clear()  # as after a quiet spell: the answers below get cached

    assert client.post(URL, {"n": 0}, format="json", **headers).status_code == 401  # inactive
    user.is_active = True
    user.save()
    assert client.post(URL, {"n": 1}, format="json", **headers).status_code == 403  # not a member
    membership_add(account=account, user=user)
    assert client.post(URL, {"n": 2}, format="json", **headers).status_code == 200
    assert Event.objects.filter(account=account).count() == 1


def test_only_views_that_check_the_credentials_themselves_defer_the_checks():
    """`credential_checks_deferred` makes authentication skip the denylist, the user's active flag
    and the API key owner's membership: only a view whose permission checks them may set it."""

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                view_class = getattr(pattern.callback, "cls", None)
                if view_class is not None:
                    yield view_class

    deferring = {
        view
        for view in views(get_resolver().url_patterns)
        if getattr(view, "credential_checks_deferred", False)
    }
    assert deferring == {IngestView, CompatIngestView}
    for view in deferring:
        assert IngestCallerPermission in view.permission_classes


def test_the_prepared_insert_stores_what_the_orm_would(account):
    """Ingest writes the event with its own prepared INSERT (destinations/pipeline/ingest.py),
    which is only right while Event has no save() of its own and nothing listens to its saves."""
    from django.db.models import Model
    from django.db.models.signals import post_save, pre_save

    from destinations.pipeline.ingest import event_ingest

    assert Event.save is Model.save
    assert not pre_save.has_listeners(Event) and not post_save.has_listeners(Event)

    event, created = event_ingest(
        account_id=account.pk, body='{"b": 1, "a": [1.50]}', event_id="order-1", event_type="o.c"
    )
    assert created and event.pk and not event._state.adding
    stored = Event.objects.get(pk=event.pk)
    assert (stored.account_id, stored.event_id, stored.event_type, stored.body) == (
        account.pk,
        "order-1",
        "o.c",
        '{"b": 1, "a": [1.50]}',
    )
    assert stored.received_at == event.received_at and stored.fanned_out_at is None
    assert stored.about_destination_id is None and stored.traceparent is None

    again, created_again = event_ingest(account_id=account.pk, body="{}", event_id="order-1")
    assert not created_again and again.pk == event.pk
    assert Event.objects.filter(account=account).count() == 1


def test_the_json_answer_is_what_drfs_renderer_writes_and_other_renderers_still_answer(account):
    from rest_framework.renderers import JSONRenderer

    headers = {"HTTP_CL_X_TOKEN": str(account.app_secret_token)}
    client = APIClient()
    response = client.post(URL, {"a": 1}, format="json", HTTP_CL_X_EVENT_ID="é-1", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    expected = {"message": "Data Received", "event_id": "é-1"}
    assert response.content == JSONRenderer().render(expected)

    repeat = client.post(URL, {"a": 1}, format="json", HTTP_CL_X_EVENT_ID="é-1", **headers)
    assert repeat.content == JSONRenderer().render({**expected, "duplicate": True})

    indented = client.post(
        URL, {"a": 2}, format="json", HTTP_ACCEPT="application/json; indent=2", **headers
    )
    assert indented.status_code == 200 and b'\n  "message"' in indented.content

    html = client.post(URL, {"a": 3}, format="json", HTTP_ACCEPT="text/html", **headers)
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
