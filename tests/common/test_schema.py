"""The OpenAPI schema builds, validates, and the docs are served from local assets."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_it_builds_a_valid_schema_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "openapi: 3" in text
    for scheme in ("jwtAuth", "ApiKeyAuth"):
        assert scheme in text


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_it_serves_the_docs_with_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html or "/api/redoc/redoc.standalone.js" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


@pytest.mark.django_db
def test_it_serves_the_schema(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/metrics", "/prometheus/metrics"])
def test_it_exposes_prometheus_metrics(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content
