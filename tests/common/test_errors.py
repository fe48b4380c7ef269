"""Every API path answers errors as JSON in one shape."""

import pytest


@pytest.mark.django_db
def test_it_answers_unknown_api_path_with_json_404(api_client):
    response = api_client.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "details"}
    assert "/api/v1/does-not-exist/" in body["error"]


@pytest.mark.django_db
def test_it_echoes_a_request_id(api_client):
    response = api_client.get("/api/v1/nothing/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    response = api_client.get("/api/v1/nothing/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] != "bad id with spaces"
    assert len(response["X-Request-ID"]) == 32
