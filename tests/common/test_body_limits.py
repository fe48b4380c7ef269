"""Body caps (SPEC section 7): 64 KiB for JSON and forms, 1 MiB for ingest, 413 before parsing."""

import io
import json

import pytest
from django.test import Client, override_settings

from endpoints.models import ApiKey, ScheduledTask
from tests.factories import AccountFactory
from users.models import User

pytestmark = pytest.mark.django_db

FOUR_MIB = 4 * 1024 * 1024


def _big_json(size: int, **fields) -> str:
    return json.dumps({**fields, "padding": "x" * size})


def assert_413(response):
    assert response.status_code == 413, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "details"}
    assert body["details"] == {"max_bytes": 64 * 1024}
    return body


def test_it_refuses_a_4_mib_api_key_body_and_creates_nothing(auth_client):
    response = auth_client.post(
        "/api/v1/api-keys/", _big_json(FOUR_MIB, name="big"), content_type="application/json"
    )
    assert_413(response)
    assert not ApiKey.objects.exists()


def test_it_refuses_a_4_mib_seed_004_registration_and_creates_nothing(api_client):
    body = _big_json(FOUR_MIB, username="big", email="big@example.com", password="a-L0ng-pass!")
    assert_413(api_client.post("/api/v1/user/create", body, content_type="application/json"))
    assert not User.objects.filter(email="big@example.com").exists()


def test_it_refuses_a_4_mib_seed_002_task_and_creates_nothing(api_client):
    body = json.dumps({"type": "add", "x": 5, "y": 3, "padding": "x" * FOUR_MIB})
    assert_413(api_client.post("/tasks/", body, content_type="application/json"))
    assert not ScheduledTask.objects.exists()


def test_it_refuses_a_big_form_body(api_client):
    response = api_client.post(
        "/api/v1/auth/token/",
        "email=a%40example.com&password=" + "x" * 70_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert_413(response)


def test_a_body_at_the_cap_is_parsed_as_usual(auth_client):
    name_only = json.dumps({"name": "at-cap", "padding": ""})
    body = name_only.replace('""', '"' + "x" * (64 * 1024 - len(name_only)) + '"')
    assert len(body) == 64 * 1024
    response = auth_client.post("/api/v1/api-keys/", body, content_type="application/json")
    # Past the cap check: the serializer names the unknown field.
    assert response.status_code == 400
    assert "padding" in response.json()["details"]


@override_settings(API_MAX_BODY_BYTES=100)
def test_the_cap_is_a_setting(api_client):
    response = api_client.post(
        "/api/v1/auth/token/", _big_json(200), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["details"] == {"max_bytes": 100}


def _chunked(client, path, body: bytes, **extra):
    """A request with Transfer-Encoding: chunked and no Content-Length (as gunicorn hands it)."""
    return client.generic(
        "POST",
        path,
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body)},
        **extra,
    )


def test_it_refuses_an_oversized_chunked_body_reading_at_most_cap_plus_one(auth_client):
    stream = io.BytesIO(_big_json(FOUR_MIB, name="chunked").encode())
    response = auth_client.generic(
        "POST",
        "/api/v1/api-keys/",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream},
    )
    assert_413(response)
    assert stream.tell() == 64 * 1024 + 1
    assert not ApiKey.objects.exists()


def test_it_parses_a_small_chunked_body(auth_client):
    response = _chunked(auth_client, "/api/v1/api-keys/", json.dumps({"name": "chunky"}).encode())
    assert response.status_code == 201, response.content
    assert ApiKey.objects.get().name == "chunky"


def test_ingest_keeps_its_own_1_mib_cap():
    account = AccountFactory()
    client = Client(HTTP_CL_X_TOKEN=str(account.app_secret_token))
    body = _big_json(512 * 1024, kind="big")
    for path in ("/api/v1/incoming-data/", "/server/incoming_data/"):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 200, (path, response.content)
    too_big = client.post(
        "/api/v1/incoming-data/", _big_json(FOUR_MIB), content_type="application/json"
    )
    assert too_big.status_code == 413
    assert account.events.count() == 2


def test_multipart_uploads_are_left_to_their_own_checks(auth_client):
    # 100 KiB of multipart is over the JSON cap but not refused by it (the avatar check decides).
    upload = io.BytesIO(b"not an image" * 9000)
    upload.name = "avatar.png"
    response = auth_client.patch("/api/v1/users/me/", {"avatar": upload}, format="multipart")
    assert response.status_code == 400
    assert "avatar" in response.json()["details"]
