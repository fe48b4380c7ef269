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
