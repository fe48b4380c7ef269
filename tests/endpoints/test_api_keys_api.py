"""The API keys API: create (key shown once), list/detail (prefix only), update, regenerate, delete."""

import pytest

from endpoints.models import ApiKey, hash_api_key
from tests.endpoints.conftest import key_client, make_api_key
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys/"


def test_it_creates_a_key_from_the_seed_body_and_shows_it_once(auth_client, user):
    response = auth_client.post(URL, {"name": "My API Key"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "prefix",
        "account",
        "scopes",
        "rate_limit",
        "is_active",
        "expires_at",
        "last_used_at",
        "previous_key_expires_at",
        "created_at",
        "updated_at",
        "key",
    }
    assert body["name"] == "My API Key"
    assert body["scopes"] == ["read", "write"]
    assert body["key"].startswith(body["prefix"] + ".")
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.user == user
    assert stored.key_hash == hash_api_key(body["key"])
    assert body["key"] not in str(ApiKey.objects.filter(pk=body["id"]).values().first())

    listed = auth_client.get(URL).json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0]
    assert listed["results"][0]["prefix"] == body["prefix"]
    detail = auth_client.get(f"{URL}{body['id']}/")
    assert detail.status_code == 200
    assert "key" not in detail.json()
    assert body["key"] not in detail.content.decode()


def test_it_lists_only_the_callers_keys(auth_client, user, other_user):
    make_api_key(user, name="mine")
    make_api_key(other_user, name="theirs")
    names = [k["name"] for k in auth_client.get(URL).json()["results"]]
    assert names == ["mine"]


def test_it_refuses_unknown_fields_and_bad_values_naming_them(auth_client):
    cases = [
        ({"name": "k", "nmae": "typo"}, "nmae"),
        ({"name": "k", "rate_limit": "lots"}, "rate_limit"),
        ({"name": "k", "scopes": ["admin"]}, "scopes"),
        ({"name": "k", "scopes": []}, "scopes"),
        ({"name": "k", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "k", "key_hash": "x"}, "key_hash"),
        ({"name": "k", "prefix": "abc"}, "prefix"),
        ({}, "name"),
    ]
    for body, field in cases:
        response = auth_client.post(URL, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["details"], body
    assert ApiKey.objects.count() == 0


def test_it_binds_a_key_to_an_account_of_the_caller_only(auth_client, user):
    mine = MembershipFactory(user=user).account
    foreign = MembershipFactory().account
    response = auth_client.post(URL, {"name": "k", "account": foreign.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"account": ["You are not a member of this account."]}
    assert ApiKey.objects.count() == 0
    response = auth_client.post(
        URL, {"name": "k", "account": mine.pk, "scopes": ["ingest"]}, format="json"
    )
    assert response.status_code == 201
    key = ApiKey.objects.get()
    assert key.account_id == mine.pk
    assert key.has_scope("ingest") and not key.has_scope("read")
    patch = auth_client.patch(f"{URL}{key.pk}/", {"account": foreign.pk}, format="json")
    assert patch.status_code == 400
    key.refresh_from_db()
    assert key.account_id == mine.pk


def test_it_updates_a_key_but_not_its_read_only_fields(auth_client, user):
    key, _ = make_api_key(user)
    response = auth_client.patch(
        f"{URL}{key.pk}/", {"name": "renamed", "rate_limit": "5/minute"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "renamed"
    assert response.json()["rate_limit"] == "5/minute"
    response = auth_client.patch(f"{URL}{key.pk}/", {"last_used_at": None}, format="json")
    assert response.status_code == 400
    assert "last_used_at" in response.json()["details"]
    response = auth_client.put(f"{URL}{key.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["details"]


def test_it_answers_404_for_another_users_key(auth_client, other_user):
    key, raw = make_api_key(other_user)
    detail = f"{URL}{key.pk}/"
    assert auth_client.get(detail).status_code == 404
    assert auth_client.patch(detail, {"name": "x"}, format="json").status_code == 404
    assert auth_client.put(detail, {"name": "x"}, format="json").status_code == 404
    assert auth_client.post(f"{detail}regenerate/").status_code == 404
    assert auth_client.delete(detail).status_code == 404
    key.refresh_from_db()
    assert key.name == "Test key"
    assert key.key_hash == hash_api_key(raw)


def test_it_deletes_a_key(auth_client, user):
    key, raw = make_api_key(user)
    assert auth_client.delete(f"{URL}{key.pk}/").status_code == 204
    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert key_client(raw).get("/api/v1/tasks/").status_code == 401


def test_it_requires_credentials_with_www_authenticate(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.has_header("WWW-Authenticate")
    assert set(response.json()) == {"error", "details"}


def test_it_does_not_let_an_api_key_manage_keys(user):
    _, raw = make_api_key(user)
    client = key_client(raw)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "escalate"}, format="json").status_code == 403
    assert ApiKey.objects.count() == 1


def test_it_validates_the_grace_period(auth_client, user):
    key, raw = make_api_key(user)
    url = f"{URL}{key.pk}/regenerate/"
    for bad in (-1, 7 * 24 * 3600 + 1, "soon"):
        response = auth_client.post(url, {"grace_period_seconds": bad}, format="json")
        assert response.status_code == 400
        assert "grace_period_seconds" in response.json()["details"]
    key.refresh_from_db()
    assert key.key_hash == hash_api_key(raw)
