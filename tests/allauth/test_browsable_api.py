"""DRF's browsable-API session login at /api/v1/auth/login/, beside the JSON token routes,
and the seed 004 routes that live next to them."""

from django.test import Client
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD

LOGIN_URL = "/api/v1/auth/login/"


def test_it_renders_the_browsable_api_login_page(db):
    response = Client().get(LOGIN_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b'name="username"' in response.content and b'name="password"' in response.content


def test_it_logs_in_and_browses_the_api_with_the_session(user):
    browser = Client()
    response = browser.post(
        LOGIN_URL,
        {"username": user.email, "password": DEFAULT_PASSWORD, "next": "/api/v1/tasks/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/api/v1/tasks/"

    page = browser.get("/api/v1/users/me/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert user.email.encode() in page.content
    # The session logout of the browsable API is its own path.
    assert browser.post("/api/v1/auth/session-logout/").status_code in (200, 302)
    after = browser.get("/api/v1/users/me/", HTTP_ACCEPT="application/json")
    assert after.status_code == 401


def test_it_keeps_the_json_token_logout(auth_client):
    response = APIClient().post("/api/v1/auth/logout/", {})
    assert response.status_code == 401
    assert set(response.json()) == {"error", "details"}


def test_it_requires_csrf_for_unsafe_session_requests(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post("/api/v1/tasks/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


def test_it_serves_the_seed_004_routes(db):
    client = APIClient()
    assert client.get("/api/", HTTP_ACCEPT="application/json").status_code == 200
    health = client.get("/api/health/")
    assert health.status_code == 200, health.content  # the test's database and cache are up
    assert health.json()["status"] == "ok"
    # Registration and login aliases exist (a bad body is a 400, not a 404/405).
    assert client.post("/api/account/create/", {}).status_code == 400
    assert client.post("/api/login/", {}).status_code == 400
