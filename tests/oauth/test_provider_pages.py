"""DOT's HTML pages (application management, consent) and its server metadata document."""

from django.test import Client
from oauth2_provider.models import Application


def test_it_sends_anonymous_visitors_to_the_login_page(db):
    response = Client().get("/api/v1/oauth2/applications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_lets_a_logged_in_user_register_an_application(user):
    browser = Client()
    browser.force_login(user)
    assert browser.get("/api/v1/oauth2/applications/").status_code == 200
    page = browser.get("/api/v1/oauth2/applications/register/")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")

    response = browser.post(
        "/api/v1/oauth2/applications/register/",
        {
            "name": "My CLI",
            "client_id": "my-cli-client-id",
            "client_secret": "a-long-client-secret-that-is-hashed",
            "hash_client_secret": "on",
            "client_type": "confidential",
            "authorization_grant_type": "client-credentials",
            "redirect_uris": "",
            "post_logout_redirect_uris": "",
            "allowed_origins": "",
            "algorithm": "",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    application = Application.objects.get(client_id="my-cli-client-id")
    assert application.user == user
    assert application.client_secret != "a-long-client-secret-that-is-hashed"


def test_it_serves_the_authorization_server_metadata(db):
    response = Client().get("/api/v1/oauth2/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = response.json()
    assert body["token_endpoint"].endswith("/api/v1/oauth2/token/")
    assert body["authorization_endpoint"].endswith("/api/v1/oauth2/authorize/")
    assert body["code_challenge_methods_supported"] == ["S256"]


def test_it_answers_json_errors_on_the_token_endpoint(db):
    response = Client().post("/api/v1/oauth2/token/", {"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
