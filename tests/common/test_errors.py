"""Every API path answers errors as JSON in one shape: {"error": sentence, "details": {...}}."""

import pytest
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.common.urls")]


def assert_error_shape(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "details"}
    assert isinstance(body["error"], str) and body["error"]
    return body


def test_it_answers_unknown_api_path_with_json_404(api_client):
    body = assert_error_shape(api_client.get("/api/v1/does-not-exist/"), 404)
    assert "/api/v1/does-not-exist/" in body["error"]


def test_it_answers_unknown_root_path_with_json_404(api_client):
    assert_error_shape(api_client.get("/no/such/thing/"), 404)


def test_it_answers_wrong_method_with_json_405(api_client):
    response = api_client.get("/api/v1/echo/")
    assert_error_shape(response, 405)
    assert "POST" in response["Allow"]


def test_it_answers_malformed_json_with_400(api_client):
    response = api_client.post("/api/v1/echo/", data='{"name": ', content_type="application/json")
    body = assert_error_shape(response, 400)
    assert "JSON" in body["error"]


def test_it_names_the_invalid_field(api_client):
    body = assert_error_shape(api_client.post("/api/v1/echo/", {"name": "x" * 11}), 400)
    assert list(body["details"]) == ["name"]
    assert body["error"].startswith("Invalid input: name:")


def test_it_refuses_unknown_fields_naming_them(api_client):
    body = assert_error_shape(api_client.post("/api/v1/echo/", {"name": "ok", "nmae": "typo"}), 400)
    assert body["details"] == {"nmae": ["Unknown field."]}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_it_answers_oversized_body_with_json_413(api_client):
    response = api_client.post(
        "/api/v1/echo/", data='{"name": "' + "x" * 500 + '"}', content_type="application/json"
    )
    assert_error_shape(response, 413)


def test_it_hides_internals_of_a_drf_crash_and_names_the_request_id(caplog):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/crash/", HTTP_X_REQUEST_ID="req-42")
    body = assert_error_shape(response, 500)
    assert "req-42" in body["error"]
    assert "hunter2" not in response.content.decode()
    assert any(getattr(r, "request_id", None) == "req-42" for r in caplog.records)


def test_it_hides_internals_of_a_crash_outside_drf():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/plain-crash/", HTTP_X_REQUEST_ID="req-43")
    body = assert_error_shape(response, 500)
    assert "req-43" in body["error"]
    assert "internals" not in response.content.decode()


def test_it_echoes_a_safe_request_id_and_replaces_an_unsafe_one(api_client):
    response = api_client.get("/api/v1/nothing/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    response = api_client.get("/api/v1/nothing/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] != "bad id with spaces"
    assert len(response["X-Request-ID"]) == 32


def test_admin_pages_stay_html(api_client):
    response = api_client.get("/admin/login/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_it_redirects_a_post_without_trailing_slash_keeping_method_and_body(api_client):
    response = api_client.post("/api/v1/echo", {"name": "ok"})
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/echo/"
    followed = api_client.post(response["Location"], {"name": "ok"})
    assert followed.status_code == 200
    assert followed.json() == {"name": "ok"}
