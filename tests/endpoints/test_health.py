"""Health (seed body and IETF health+json), the API root and the `/` home page."""

import pytest

pytestmark = pytest.mark.django_db

HEALTH_PATHS = ["/api/v1/health/", "/health/", "/api/health/"]


def test_it_reports_healthy_components(api_client, settings):
    # What is configured, checked: Redis with REDIS_URL, else the embedded file cache.
    expected = (
        {"database": True, "redis": True}
        if settings.REDIS_URL
        else {"database": True, "redis": None, "cache": True}
    )
    for path in HEALTH_PATHS:
        response = api_client.get(path)
        assert response.status_code == 200, path
        body = response.json()
        assert set(body) == {"status", "timestamp", "components", "info"}
        assert body["status"] == "ok"
        assert body["components"] == expected
        assert body["info"]["version"] == "1.0.0"
        assert body["info"]["environment"] == "development"


def test_it_never_claims_redis_without_redis_url(api_client, settings):
    settings.REDIS_URL = ""
    body = api_client.get("/health/").json()
    assert body["components"]["redis"] is None
    assert body["components"]["cache"] is True
    assert body["info"]["backends"]["cache"] == "file (embedded)"
    ietf = api_client.get("/health/", HTTP_ACCEPT="application/health+json").json()
    assert set(ietf["checks"]) == {"database:responseTime", "cache:responseTime"}


def test_it_names_the_backends_it_runs_on(api_client, settings):
    backends = api_client.get("/api/v1/health/").json()["info"]["backends"]
    assert backends["database"] in {"sqlite", "postgresql"}
    assert backends["cache"] == ("redis" if settings.REDIS_URL else "file (embedded)")
    if settings.CELERY_BROKER_URL.startswith("sqla+sqlite"):
        assert backends["broker"] == "sqlite (embedded)"
    assert "://" not in backends["broker"]  # a kind, never a URL with its password


def test_it_answers_503_when_redis_is_unreachable(api_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["components"] == {"database": True, "redis": False}
    ietf = api_client.get("/health/", HTTP_ACCEPT="application/health+json")
    assert ietf.status_code == 503
    assert ietf.json()["status"] == "fail"
    assert ietf.json()["checks"]["redis:responseTime"][0]["status"] == "fail"


def test_it_speaks_health_json(api_client, settings):
    response = api_client.get("/api/v1/health/", HTTP_ACCEPT="application/health+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/health+json")
    body = response.json()
    assert body["status"] == "pass"
    assert body["version"] == "1"
    cache_check = "redis" if settings.REDIS_URL else "cache"
    assert set(body["checks"]) == {"database:responseTime", f"{cache_check}:responseTime"}
    check = body["checks"]["database:responseTime"][0]
    assert check["status"] == "pass" and check["observedUnit"] == "ms"


def test_it_ignores_bad_credentials_on_health(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage", HTTP_X_API_KEY="bad.key")
    assert api_client.get("/api/v1/health/").status_code == 200


def test_it_serves_api_info_as_json_at_root(api_client):
    for path in ("/", "/api/"):
        response = api_client.get(path, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, path
        body = response.json()
        assert body["name"] and body["version"] == "1.0.0"
        assert body["links"]["docs"] == "http://testserver/api/docs/"
        assert body["links"]["schema"] == "http://testserver/api/schema/"
        assert body["links"]["health"] == "http://testserver/api/v1/health/"
        assert body["links"]["api"] == "http://testserver/api/v1/"


def test_it_redirects_a_browser_to_the_docs(api_client):
    response = api_client.get(
        "/", HTTP_ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    )
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
    assert api_client.get("/", HTTP_ACCEPT="*/*").status_code == 200


def test_it_documents_the_api_key_scheme_and_compat_routes(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key; `Authorization: Api-Key <key>` works too.",
    }
    assert body["paths"]["/tasks/"]["post"]["tags"] == ["compat"]
    assert body["paths"]["/health/"]["get"]["tags"] == ["compat"]
    assert body["paths"]["/api/health/"]["get"]["tags"] == ["compat"]
    assert body["paths"]["/api/v1/health/"]["get"]["tags"] == ["health"]


def test_concurrent_checks_of_the_embedded_cache_do_not_read_each_others_probe(settings):
    import threading

    from endpoints.selectors import check_redis

    settings.REDIS_URL = ""
    results = []

    def check():
        results.extend(check_redis() for _ in range(20))

    threads = [threading.Thread(target=check) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [True] * 80
