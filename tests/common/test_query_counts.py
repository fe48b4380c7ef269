"""List endpoints run a fixed number of queries however many rows a page shows (no N+1)."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership
from destinations.pipeline.fanout import events_fan_out
from destinations.pipeline.ingest import event_ingest
from endpoints.services import api_key_create, scheduled_task_create
from tests.conftest import jwt_client
from tests.destinations.factories import DestinationFactory
from tests.factories import AccountFactory, MembershipFactory
from users.services.credits import credits_grant
from users.services.devices import device_record_login

pytestmark = pytest.mark.django_db


def query_count(client, url: str) -> int:
    client.get(url)  # warm per-request caches (denylist, throttles) out of the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries.captured_queries)


def test_list_endpoints_do_not_query_per_row(user, settings):
    settings.LOGS_CACHE_SECONDS = 0  # measure the database, not the logs cache
    account = AccountFactory()
    MembershipFactory(account=account, user=user, role=Membership.Role.ADMIN)
    client = jwt_client(user)
    urls = [
        "/api/v1/accounts/",
        f"/api/v1/accounts/{account.pk}/members/",
        f"/api/v1/accounts/{account.pk}/destinations/",
        f"/api/v1/accounts/{account.pk}/logs/",
        "/api/v1/api-keys/",
        "/api/v1/tasks/",
        "/users/",
        "/api/v1/users/me/devices/",
        "/api/v1/users/me/credits/",
    ]

    def add_rows(n: int) -> None:
        add_each(n)
        events_fan_out()

    def add_each(n: int) -> None:
        for i in range(n):
            other = AccountFactory()
            MembershipFactory(account=other, user=user, role=Membership.Role.ADMIN)
            MembershipFactory(account=account)
            DestinationFactory(account=account)
            event_ingest(account_id=account.pk, body=f'{{"i": {i}}}')
            api_key_create(user=user, name=f"key {i}", scopes=["read"])
            scheduled_task_create(
                owner=user,
                name=f"t{i}",
                task_type="add",
                parameters={"x": i, "y": 1},
                scheduled_at=timezone.now() + timedelta(days=1),
            )
            # A device with a login of its own (related rows the device list could fetch one
            # by one), and a credit transaction with its balance.
            row = uuid.uuid4().hex
            device_record_login(
                user=user,
                request=RequestFactory().get(
                    "/", HTTP_USER_AGENT=f"Mozilla/5.0 (X11; Linux x86_64) agent-{row}"
                ),
                family=row,
                expires_at=timezone.now() + timedelta(days=1),
            )
            credits_grant(user=user, amount=i + 1, reason="bonus", reference=f"bonus-{row}")

    add_rows(1)
    few = {url: query_count(client, url) for url in urls}
    add_rows(5)
    many = {url: query_count(client, url) for url in urls}
    assert many == few
    # Every list really shows several rows (not a page of one, nor an empty one).
    for url in urls:
        body = client.get(url).json()
        rows = body["results"] if isinstance(body, dict) and "results" in body else body
        if isinstance(body, dict) and "transactions" in body:
            rows = body["transactions"]
        assert isinstance(rows, list) and len(rows) >= 6, (url, body)
