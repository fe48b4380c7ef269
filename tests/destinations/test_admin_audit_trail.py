"""The delivery audit trail (events, logs, attempts) is read-only in the admin; failed logs can be
retried from it; the admin index names our accounts app apart from allauth's (issue 11, item 12).
"""

import pytest
from django.contrib.auth.models import Permission

from destinations.models import DeliveryAttempt, DeliveryLog, Event
from tests.destinations.factories import DeliveryLogFactory
from tests.factories import UserFactory


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def log(db):
    log = DeliveryLogFactory(status=DeliveryLog.Status.FAILED, attempts=3, last_error="boom")
    DeliveryAttempt.objects.create(
        log=log, attempt_number=1, started_at=log.received_timestamp, outcome="failure"
    )
    return log


def trail() -> tuple:
    """Every row of the audit trail, field by field: equal before and after means nothing
    changed (no row added, removed or edited)."""
    return (
        list(Event.objects.order_by("pk").values()),
        list(DeliveryLog.objects.order_by("pk").values()),
        list(DeliveryAttempt.objects.order_by("pk").values()),
    )


def _urls(log):
    attempt = DeliveryAttempt.objects.get(log=log)
    return {"event": log.event_id, "deliverylog": log.pk, "deliveryattempt": attempt.pk}


@pytest.mark.parametrize("model", ["event", "deliverylog", "deliveryattempt"])
def test_the_add_page_is_refused(superuser_client, log, model):
    before = trail()
    assert superuser_client.get(f"/admin/destinations/{model}/add/").status_code == 403
    response = superuser_client.post(f"/admin/destinations/{model}/add/", {"status": "success"})
    assert response.status_code == 403
    assert trail() == before


@pytest.mark.parametrize("model", ["event", "deliverylog", "deliveryattempt"])
def test_the_change_page_is_read_only_and_a_change_post_is_refused(superuser_client, log, model):
    pk = _urls(log)[model]
    before = trail()
    page = superuser_client.get(f"/admin/destinations/{model}/{pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert "<textarea" not in html and 'name="status"' not in html

    response = superuser_client.post(
        f"/admin/destinations/{model}/{pk}/change/",
        {"status": "success", "attempts": "0", "payload": '{"x": 1}', "outcome": "success"},
    )
    assert response.status_code == 403
    log.refresh_from_db()
    assert (log.status, log.attempts) == (DeliveryLog.Status.FAILED, 3)
    assert DeliveryAttempt.objects.get(log=log).outcome == "failure"
    assert trail() == before


@pytest.mark.parametrize("model", ["event", "deliverylog", "deliveryattempt"])
def test_the_delete_page_is_refused(superuser_client, log, model):
    pk = _urls(log)[model]
    before = trail()
    response = superuser_client.post(f"/admin/destinations/{model}/{pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert trail() == before


def test_bulk_delete_is_not_offered(superuser_client, log):
    page = superuser_client.get("/admin/destinations/deliverylog/")
    assert b"delete_selected" not in page.content
    assert b"retry_logs" in page.content


def test_the_retry_action_requeues_a_failed_log(superuser_client, log):
    response = superuser_client.post(
        "/admin/destinations/deliverylog/",
        {"action": "retry_logs", "_selected_action": [log.pk]},
    )
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.PENDING


def test_a_viewer_sees_the_trail_but_cannot_retry(client, log):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_deliverylog"))
    client.force_login(viewer)
    assert client.get(f"/admin/destinations/deliverylog/{log.pk}/change/").status_code == 200
    page = client.get("/admin/destinations/deliverylog/")
    assert page.status_code == 200 and b"retry_logs" not in page.content
    before = trail()
    client.post(
        "/admin/destinations/deliverylog/", {"action": "retry_logs", "_selected_action": [log.pk]}
    )
    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.FAILED
    assert trail() == before


def test_the_admin_index_names_the_two_accounts_apps_apart(superuser_client):
    response = superuser_client.get("/admin/")
    assert response.status_code == 200
    names = [app["name"] for app in response.context["app_list"]]
    assert len(names) == len(set(names)), names
    assert "Accounts & members" in names
