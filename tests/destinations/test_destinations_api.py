"""Destinations API: roles (Admins manage, members view/update), tenancy, secrets, validation."""

import pytest

from destinations.models import DeliveryLog, Destination
from tests.conftest import jwt_client
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory

VALID = {
    "url": "https://93.184.216.34/post",
    "http_method": "POST",
    "headers": {"Content-Type": "application/json", "X-Custom": "abc"},
}


def list_url(account_id):
    return f"/api/v1/accounts/{account_id}/destinations/"


def test_it_lets_an_admin_create_a_destination_with_a_secret(admin_client, admin_user, account):
    response = admin_client.post(list_url(account.pk), VALID, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    destination = Destination.objects.get()
    assert body == {
        "id": destination.pk,
        "account": account.pk,
        "url": VALID["url"],
        "http_method": "POST",
        "headers": VALID["headers"],
        "is_active": True,
        "disabled_reason": "",
        "disabled_at": None,
        "event_types": [],
        "filter": None,
        "rate_limit": None,
        "fifo": False,
        "consecutive_failures": 0,
        "signing_secret": destination.signing_secret,
        "previous_secret_expires_at": None,
        "created_by": str(admin_user.pk),
        "updated_by": str(admin_user.pk),
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert destination.signing_secret.startswith("whsec_")
    assert destination.created_by == admin_user


def test_it_accepts_the_seed_003_compat_route(admin_client, account):
    response = admin_client.post(
        f"/accounts/{account.pk}/destinations/",
        {"url": "https://93.184.216.34/post", "http_method": "POST", "headers": {}},
        format="json",
    )
    assert response.status_code == 201
    listed = admin_client.get(f"/accounts/{account.pk}/destinations/").json()
    assert [d["id"] for d in listed["results"]] == [response.json()["id"]]
    detail = admin_client.get(f"/destinations/{response.json()['id']}/")
    assert detail.status_code == 200


def test_it_forbids_members_to_create(member_client, account):
    response = member_client.post(list_url(account.pk), VALID, format="json")
    assert response.status_code == 403
    assert not Destination.objects.exists()


def test_it_lets_members_list_and_view_without_the_secret(member_client, destination):
    listed = member_client.get(list_url(destination.account_id))
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert "signing_secret" not in listed.json()["results"][0]
    detail = member_client.get(f"/api/v1/destinations/{destination.pk}/")
    assert detail.status_code == 200
    assert "signing_secret" not in detail.json()


def test_it_lets_members_update(member_client, member_user, destination):
    response = member_client.patch(
        f"/api/v1/destinations/{destination.pk}/",
        {"http_method": "put", "headers": {"X-A": "1"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    destination.refresh_from_db()
    assert destination.http_method == "PUT"
    assert destination.headers == {"X-A": "1"}
    assert destination.updated_by == member_user


def test_it_forbids_members_to_delete_or_rotate(member_client, destination):
    assert member_client.delete(f"/api/v1/destinations/{destination.pk}/").status_code == 403
    secret = destination.signing_secret
    response = member_client.post(f"/api/v1/destinations/{destination.pk}/rotate-secret/")
    assert response.status_code == 403
    destination.refresh_from_db()
    assert destination.signing_secret == secret


def test_it_lets_admins_delete_and_rotate(admin_client, destination):
    old = destination.signing_secret
    response = admin_client.post(f"/api/v1/destinations/{destination.pk}/rotate-secret/")
    assert response.status_code == 200
    destination.refresh_from_db()
    assert destination.signing_secret != old
    assert response.json()["signing_secret"] == destination.signing_secret
    assert admin_client.delete(f"/api/v1/destinations/{destination.pk}/").status_code == 204
    assert not Destination.objects.exists()


def test_it_answers_404_for_another_accounts_destinations(admin_client, other_account):
    theirs = DestinationFactory(account=other_account)
    assert admin_client.get(list_url(other_account.pk)).status_code == 404
    assert admin_client.post(list_url(other_account.pk), VALID, format="json").status_code == 404
    base = f"/api/v1/destinations/{theirs.pk}/"
    assert admin_client.get(base).status_code == 404
    assert admin_client.patch(base, {"is_active": False}, format="json").status_code == 404
    assert admin_client.delete(base).status_code == 404
    assert admin_client.post(f"{base}rotate-secret/").status_code == 404
    assert admin_client.get(f"/destinations/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_it_requires_credentials(api_client, destination):
    response = api_client.get(list_url(destination.account_id))
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://93.184.216.34/", "bogus": 1}, "bogus"),
        ({"url": "https://93.184.216.34/", "http_method": "TRACE"}, "http_method"),
        ({"url": "https://93.184.216.34/", "headers": ["a"]}, "headers"),
        ({"url": "https://93.184.216.34/", "headers": {"Host": "evil"}}, "headers"),
        ({"url": "https://93.184.216.34/", "headers": {"Content-Length": "1"}}, "headers"),
        ({"url": "https://93.184.216.34/", "headers": {"Connection": "close"}}, "headers"),
        ({"url": "https://93.184.216.34/", "headers": {"webhook-id": "x"}}, "headers"),
        ({"url": "https://93.184.216.34/", "headers": {"Bad Name": "x"}}, "headers"),
        ({"url": "https://93.184.216.34/", "headers": {"X-A": "a\r\nX-B: b"}}, "headers"),
        ({"url": "https://93.184.216.34/", "headers": {"X-A": 1}}, "headers"),
        (
            {"url": "https://93.184.216.34/", "headers": {f"X-{i}": "v" for i in range(21)}},
            "headers",
        ),
        ({"http_method": "POST"}, "url"),
        ({"url": "not a url"}, "url"),
    ],
)
def test_it_refuses_invalid_bodies(admin_client, account, body, field):
    response = admin_client.post(list_url(account.pk), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]
    assert not Destination.objects.exists()


def test_it_refuses_read_only_fields(admin_client, destination):
    response = admin_client.patch(
        f"/api/v1/destinations/{destination.pk}/",
        {"signing_secret": "whsec_AAAA", "account": 99},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"signing_secret", "account"}


def test_it_holds_pending_logs_on_disable_and_requeues_them_on_enable(member_client, destination):
    log = DeliveryLogFactory(destination=destination)
    url = f"/api/v1/destinations/{destination.pk}/"

    assert member_client.patch(url, {"is_active": False}, format="json").status_code == 200
    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.HELD

    response = member_client.patch(url, {"is_active": True}, format="json")
    assert response.status_code == 200
    assert response.json()["disabled_reason"] == ""
    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.PENDING
    assert log.attempts == 0


def test_it_lets_the_admin_of_another_account_see_nothing(other_account, destination):
    outsider = other_account.memberships.get().user
    client = jwt_client(outsider)
    assert client.get(f"/api/v1/destinations/{destination.pk}/").status_code == 404


def test_a_body_nested_past_the_recursion_limit_is_a_400_not_a_500(admin_client, account):
    deep = b"[" * 20_000 + b"]" * 20_000  # under the body cap, past Python's recursion limit
    response = admin_client.post(
        f"/api/v1/accounts/{account.pk}/destinations/", deep, content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error", "details"}
