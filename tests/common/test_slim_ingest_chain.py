"""The ingest paths take a shorter middleware chain (backend/common/wsgi.py, the application
gunicorn serves): without sessions, CSRF, messages, allauth, WhiteNoise, and with every header,
cap, id and count the SPEC asks of a response, like the full chain."""

import json

import pytest
from django.test import RequestFactory

from backend.common.wsgi import PathRoutedWSGIHandler, slim_middleware
from destinations.models import Event
from tests.factories import AccountFactory
from tests.support.metrics import metric_value

pytestmark = pytest.mark.django_db(transaction=True)

INGEST = "/api/v1/incoming-data/"
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Cross-Origin-Opener-Policy",
)


def call(handler, method: str, path: str, body: bytes = b"", **headers):
    """One request through the WSGI application; (status, headers, body)."""
    request = RequestFactory().generic(
        method, path, data=body, content_type="application/json", **headers
    )
    answered: dict = {}

    def start_response(status, response_headers, exc_info=None):
        answered["status"] = int(status.split()[0])
        answered["headers"] = dict(response_headers)

    content = b"".join(handler(request.environ, start_response))
    return answered["status"], answered["headers"], content


@pytest.fixture
def account():
    return AccountFactory()


@pytest.fixture
def handler():
    return PathRoutedWSGIHandler()


def test_the_ingest_chain_is_the_full_one_without_the_skipped_middleware(settings):
    slim = slim_middleware()
    assert not set(slim) & set(settings.SLIM_SKIPPED_MIDDLEWARE)
    assert [name for name in settings.MIDDLEWARE if name not in slim] == [
        name for name in settings.MIDDLEWARE if name in settings.SLIM_SKIPPED_MIDDLEWARE
    ]
    for kept in (
        "backend.common.middleware.RequestIdMiddleware",
        "backend.common.middleware.JsonErrorMiddleware",
        "backend.common.limits.BodySizeLimitMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ):
        assert kept in slim


def test_ingest_answers_with_every_header_of_the_full_chain_and_no_cookie(handler, account):
    status, headers, body = call(
        handler,
        "POST",
        INGEST,
        b'{"a": 1}',
        HTTP_CL_X_TOKEN=str(account.app_secret_token),
        HTTP_X_REQUEST_ID="req-42",
    )
    assert status == 200, body
    assert Event.objects.filter(account=account).count() == 1
    assert headers["X-Request-ID"] == "req-42"
    assert "Set-Cookie" not in headers
    _, full_headers, _ = call(handler, "GET", "/api/")  # a path on the full chain
    for name in SECURITY_HEADERS:
        if name in full_headers:
            assert headers.get(name) == full_headers[name], name
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_ingest_errors_are_json_with_the_caps_of_the_spec(handler, account, settings):
    token = {"HTTP_CL_X_TOKEN": str(account.app_secret_token)}
    too_big = b'{"a": "' + b"x" * settings.INGEST_MAX_BODY_BYTES + b'"}'
    status, headers, body = call(handler, "POST", INGEST, too_big, **token)
    assert status == 413 and headers["Content-Type"].startswith("application/json")
    assert set(json.loads(body)) == {"error", "details"}
    status, headers, body = call(handler, "POST", INGEST, b'{"a": 1}', HTTP_CL_X_TOKEN="nope")
    assert status == 401 and set(json.loads(body)) == {"error", "details"}
    status, _, _ = call(handler, "GET", INGEST, **token)
    assert status == 405
    assert not Event.objects.exists()


def test_ingest_is_throttled_and_counted_on_the_slim_chain(handler, account, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "ingest": "2/minute",
        },
    }
    token = {"HTTP_CL_X_TOKEN": str(account.app_secret_token)}
    sample = {"view": "incoming-data", "method": "POST"}
    metric = "django_http_requests_total_by_view_transport_method_total"
    before = metric_value(call(handler, "GET", "/metrics")[2].decode(), metric, **sample)

    statuses = [call(handler, "POST", INGEST, b'{"a": 1}', **token)[0] for _ in range(3)]

    assert statuses == [200, 200, 429]
    after = metric_value(call(handler, "GET", "/metrics")[2].decode(), metric, **sample)
    assert after == before + 3


def test_a_path_without_the_slash_still_gets_the_full_chain_redirect(handler, account):
    status, headers, _ = call(
        handler, "POST", INGEST.rstrip("/"), b"{}", HTTP_CL_X_TOKEN=str(account.app_secret_token)
    )
    assert status == 308 and headers["Location"].endswith(INGEST)
