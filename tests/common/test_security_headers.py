"""Content Security Policy on every kind of response, and HSTS over HTTPS only."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
def test_it_forbids_everything_on_json_answers(auth_client):
    response = auth_client.get("/api/v1/api-keys/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "script-src" not in policy and "style-src" not in policy


@pytest.mark.django_db
def test_it_forbids_everything_on_json_errors(api_client):
    response = api_client.get("/api/v1/no-such-route/")
    assert response.status_code == 404
    assert _policy(response)["default-src"] == ["'none'"]


def test_the_cached_json_policy_is_django_csps_and_a_views_own_policy_still_wins(rf):
    """JSON answers get a policy built once (backend/common/security.py); it must be the one
    django-csp builds, and a view's @csp_update / @csp_exempt must still take effect."""
    from csp.decorators import csp_exempt, csp_update
    from csp.utils import build_policy
    from django.conf import settings
    from django.http import JsonResponse

    from backend.common.security import PathAwareCSPMiddleware

    def plain(request):
        return JsonResponse({})

    middleware = PathAwareCSPMiddleware(plain)
    expected = build_policy(config=settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    assert middleware(rf.get("/api/v1/x/"))["Content-Security-Policy"] == expected

    updated = PathAwareCSPMiddleware(csp_update({"img-src": ["https://img.test"]})(plain))
    header = updated(rf.get("/api/v1/x/"))["Content-Security-Policy"]
    assert "img-src https://img.test" in header and header != expected

    exempt = PathAwareCSPMiddleware(csp_exempt()(plain))
    assert "Content-Security-Policy" not in exempt(rf.get("/api/v1/x/"))


@pytest.mark.django_db
def test_it_allows_only_the_site_on_the_admin(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "blob:" not in header


@pytest.mark.django_db
def test_it_allows_swagger_ui_its_styles_but_no_inline_script():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert "script-src" not in policy  # falls back to 'self': no inline or remote script
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_it_allows_redoc_its_search_worker_and_no_remote_fonts():
    response = Client().get("/api/redoc/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["worker-src"] == ["'self'", "blob:"]
    assert policy["font-src"] == ["'self'", "data:"]
    assert "script-src" not in policy
    assert all("http" not in value for values in policy.values() for value in values)


@pytest.mark.django_db
@override_settings(SECURE_HSTS_SECONDS=3600, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_it_sends_hsts_over_https_only(api_client):
    secure = api_client.get("/api/v1/health/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
    # Behind the proxy: X-Forwarded-Proto says the client used HTTPS.
    proxied = api_client.get("/api/v1/health/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied["Strict-Transport-Security"].startswith("max-age=3600")
    assert "Strict-Transport-Security" not in api_client.get("/api/v1/health/")


def test_hsts_is_on_by_default_outside_debug():
    code = (
        "import django, os; django.setup(); from django.conf import settings; "
        "print(settings.SECURE_HSTS_SECONDS)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "backend.settings.base",
        "DEBUG": "False",
        "SECRET_KEY": "x" * 50,
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "31536000"
