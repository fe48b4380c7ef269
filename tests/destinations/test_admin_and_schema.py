"""Admin pages of every destinations model load; the schema documents canonical and compat routes."""

import pytest

from destinations.models import DeliveryAttempt
from tests.destinations.factories import DeliveryLogFactory
from tests.factories import UserFactory


@pytest.fixture
def admin_site_client(client, db):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("model", ["destination", "event", "deliverylog", "deliveryattempt"])
def test_it_shows_admin_lists_with_search_and_filters(admin_site_client, model):
    log = DeliveryLogFactory()
    DeliveryAttempt.objects.create(
        log=log, attempt_number=1, started_at=log.received_timestamp, outcome="success"
    )
    response = admin_site_client.get(f"/admin/destinations/{model}/", {"q": "x"})
    assert response.status_code == 200


def test_it_shows_a_log_with_its_attempts_inline_in_the_admin(admin_site_client):
    log = DeliveryLogFactory()
    DeliveryAttempt.objects.create(
        log=log, attempt_number=1, started_at=log.received_timestamp, outcome="retry", error="boom"
    )
    response = admin_site_client.get(f"/admin/destinations/deliverylog/{log.pk}/change/")
    assert response.status_code == 200
    assert b"boom" in response.content


INTERNAL_FIELDS = [
    "breaker_failures",
    "breaker_trips",
    "breaker_open_until",
    "rate_window_start",
    "rate_window_count",
    "previous_signing_secret",
    "previous_secret_expires_at",
    "consecutive_failures",
    "failing_since",
    "signing_secret",
]


def test_the_destination_admin_shows_internal_fields_read_only(admin_site_client):
    destination = DeliveryLogFactory().destination
    response = admin_site_client.get(f"/admin/destinations/destination/{destination.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in INTERNAL_FIELDS:
        assert name not in form.fields, f"{name} is editable"
    # Posting a value for them changes nothing.
    before = destination.breaker_trips
    data = {
        "account": destination.account_id,
        "url": destination.url,
        "http_method": destination.http_method,
        "headers": "{}",
        "event_types": "[]",
        "filter": "{}" if destination.filter is not None else "",
        "is_active": "on",
        "breaker_trips": before + 7,
        "rate_window_count": 99,
        "previous_signing_secret": "whsec_forged",
    }
    admin_site_client.post(f"/admin/destinations/destination/{destination.pk}/change/", data)
    destination.refresh_from_db()
    assert destination.breaker_trips == before
    assert destination.rate_window_count != 99
    assert destination.previous_signing_secret != "whsec_forged"


@pytest.mark.parametrize("page", ["event", "deliverylog"])
def test_the_admin_shows_the_payload_exactly_as_received(admin_site_client, page):
    log = DeliveryLogFactory()
    log.event.body = '{"amount": 19.90, "note": "<b>x</b>"}'
    log.event.save(update_fields=["body"])
    pk = log.event.pk if page == "event" else log.pk
    response = admin_site_client.get(f"/admin/destinations/{page}/{pk}/change/")
    assert response.status_code == 200
    assert b"19.90" in response.content
    assert b"&lt;b&gt;x&lt;/b&gt;" in response.content  # escaped, never markup


def test_it_documents_canonical_and_compat_routes(api_client, db):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert paths["/server/incoming_data/"]["post"]["tags"] == ["compat"]
    assert paths["/accounts/{account_id}/logs/"]["get"]["tags"] == ["compat"]
    assert paths["/destinations/{id}/"]["patch"]["tags"] == ["compat"]
    assert paths["/api/v1/incoming-data/"]["post"]["tags"] == ["ingest"]
    assert "post" in paths["/api/v1/accounts/{account_id}/logs/replay/"]
    assert "post" in paths["/api/v1/logs/{id}/retry/"]
    assert "post" in paths["/api/v1/destinations/{id}/rotate-secret/"]
