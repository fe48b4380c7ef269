"""Client-credentials tokens authenticate API calls as the application's owner, within scopes."""

from endpoints.models import ScheduledTask
from tests.oauth.conftest import (
    TOKEN_URL,
    basic_auth,
    bearer_client,
    client_credentials_token,
    form_post,
    make_application,
)


def test_it_issues_a_token_with_the_requested_scopes(cc_app):
    application, secret = cc_app
    response = form_post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "read"},
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body  # client credentials: no refresh token (RFC 6749 4.4.3)


def test_it_refuses_a_wrong_client_secret(cc_app):
    application, _ = cc_app
    response = form_post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(application.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_it_calls_the_api_as_the_application_owner(cc_app, owner):
    token = client_credentials_token(*cc_app, scope="read")
    response = bearer_client(token).get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.json()["email"] == owner.email


def test_it_defaults_to_read_and_write(cc_app, owner):
    token = client_credentials_token(*cc_app)
    response = bearer_client(token).post(
        "/api/v1/tasks/", {"name": "Sum", "task_type": "add", "parameters": {"x": 1, "y": 2}}
    )
    assert response.status_code == 201, response.content
    assert ScheduledTask.objects.get().owner == owner


def test_it_needs_the_write_scope_for_unsafe_methods(cc_app):
    client = bearer_client(client_credentials_token(*cc_app, scope="read"))
    assert client.get("/api/v1/tasks/").status_code == 200

    response = client.post("/api/v1/tasks/", {"name": "Sum", "task_type": "add"})

    assert response.status_code == 403
    assert response.json() == {
        "error": 'This OAuth2 token lacks the "write" scope.',
        "details": {},
    }
    assert not ScheduledTask.objects.exists()


def test_it_needs_the_read_scope_for_safe_methods(cc_app):
    client = bearer_client(client_credentials_token(*cc_app, scope="ingest"))
    response = client.get("/api/v1/tasks/")
    assert response.status_code == 403
    assert response.json()["error"] == 'This OAuth2 token lacks the "read" scope.'


def test_it_refuses_an_unknown_token_with_401(db):
    response = bearer_client("NotAKnownToken0123456789abcdef").get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"error", "details"}


def test_it_refuses_a_token_of_an_inactive_owner(cc_app, owner):
    token = client_credentials_token(*cc_app, scope="read")
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    response = bearer_client(token).get("/api/v1/tasks/")
    assert response.status_code == 401


def test_it_does_not_let_an_oauth2_token_manage_api_keys(cc_app):
    client = bearer_client(client_credentials_token(*cc_app))
    response = client.post("/api/v1/api-keys/", {"name": "escalation"})
    assert response.status_code == 403
    assert "OAuth2 tokens cannot manage credentials" in response.json()["error"]


def test_it_does_not_issue_client_credentials_tokens_to_an_authorization_code_app(owner):
    application, secret = make_application(
        user=owner,
        grant="authorization-code",
        redirect_uris="https://client.example.com/callback",
    )
    response = form_post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_it_keeps_jwts_working_next_to_oauth2(auth_client, user):
    response = auth_client.get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.json()["email"] == user.email
