"""Native and CLI apps register loopback redirect URIs (RFC 8252 section 7.3) and any port works at
authorization time; the RFC 8414 metadata is served at the host's /.well-known path (issue 11,
item 13)."""

import os
import subprocess
import sys
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from oauth2_provider.models import Application

from tests.oauth.conftest import (
    AUTHORIZE_URL,
    TOKEN_URL,
    bearer_client,
    form_post,
    make_application,
    pkce_pair,
)

# Production: DEBUG off, the default redirect schemes.
production = override_settings(DEBUG=False)


def loopback_app(owner, redirect_uri):
    application, _ = make_application(
        user=owner, grant="authorization-code", client_type="public", redirect_uris=redirect_uri
    )
    return application


@production
@pytest.mark.parametrize(
    "redirect_uri",
    ["http://127.0.0.1:8400/cb", "http://[::1]:8400/cb", "http://127.0.0.1/cb"],
)
def test_a_native_app_registers_a_loopback_redirect(owner, redirect_uri):
    application = loopback_app(owner, redirect_uri)
    assert Application.objects.get(pk=application.pk).redirect_uris == redirect_uri


@production
@pytest.mark.parametrize(
    "redirect_uri",
    ["http://client.example.com/cb", "http://10.0.0.1:8400/cb", "http://127.0.0.2/cb"],
)
def test_a_plain_http_redirect_to_another_host_is_refused(owner, redirect_uri):
    with pytest.raises(ValidationError) as excinfo:
        loopback_app(owner, redirect_uri)
    assert "loopback" in str(excinfo.value)
    assert not Application.objects.filter(redirect_uris=redirect_uri).exists()


@production
def test_the_api_answers_400_for_a_non_loopback_http_redirect(staff_client):
    body = {
        "name": "CLI",
        "client_type": "public",
        "authorization_grant_type": "authorization-code",
    }
    refused = staff_client.post(
        "/api/v1/oauth2-applications/", {**body, "redirect_uris": "http://example.com/cb"}
    )
    assert refused.status_code == 400
    assert "redirect_uris" in refused.json()["details"]
    accepted = staff_client.post(
        "/api/v1/oauth2-applications/", {**body, "redirect_uris": "http://127.0.0.1:9000/cb"}
    )
    assert accepted.status_code == 201, accepted.content


@production
@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_the_code_flow_with_pkce_redirects_to_a_loopback_uri_on_another_port(owner, user, host):
    application = loopback_app(owner, f"http://{host}:8400/cb")
    redirect_uri = f"http://{host}:53017/cb"  # the port the CLI got from the OS just now
    verifier, challenge = pkce_pair()
    browser = Client()
    browser.force_login(user)
    authorize_url = f"{AUTHORIZE_URL}?" + urlencode(
        {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": redirect_uri,
            "scope": "read",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = browser.get(authorize_url)
    assert page.status_code == 200, page.content[:500]
    fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = browser.post(authorize_url, {**fields, "allow": "Authorize"})

    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["s1"]
    token = form_post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": application.client_id,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.content
    me = bearer_client(token.json()["access_token"]).get("/api/v1/users/me/")
    assert me.json()["email"] == user.email


@production
def test_another_path_on_the_loopback_host_is_refused(owner, user):
    application = loopback_app(owner, "http://127.0.0.1:8400/cb")
    browser = Client()
    browser.force_login(user)
    _, challenge = pkce_pair()
    response = browser.get(
        f"{AUTHORIZE_URL}?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": application.client_id,
                "redirect_uri": "http://127.0.0.1:53017/other",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    assert response.status_code == 400
    assert "Location" not in response


@pytest.mark.parametrize(
    ("path", "issuer"),
    [
        ("/.well-known/oauth-authorization-server", "http://testserver"),
        (
            "/.well-known/oauth-authorization-server/api/v1/oauth2",
            "http://testserver/api/v1/oauth2",
        ),
        (
            "/api/v1/oauth2/.well-known/oauth-authorization-server",
            "http://testserver/api/v1/oauth2",
        ),
    ],
)
def test_the_authorization_server_metadata_is_served(db, path, issuer):
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    base = "http://testserver/api/v1/oauth2"
    assert body["issuer"] == issuer
    assert body["authorization_endpoint"] == f"{base}/authorize/"
    assert body["token_endpoint"] == f"{base}/token/"
    assert body["revocation_endpoint"] == f"{base}/revoke_token/"
    assert body["introspection_endpoint"] == f"{base}/introspect/"
    assert set(body["scopes_supported"]) == {"read", "write", "ingest"}
    assert body["response_types_supported"] == ["code"]
    assert set(body["grant_types_supported"]) >= {"authorization_code", "client_credentials"}
    assert "implicit" not in body["grant_types_supported"]
    assert "password" not in body["grant_types_supported"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert set(body["token_endpoint_auth_methods_supported"]) >= {"client_secret_basic"}


def test_production_settings_allow_http_redirect_uris_for_loopback(tmp_path):
    """The schemes are computed at import: load the settings as production does (DEBUG off)."""
    env = {
        **os.environ,
        "DEBUG": "False",
        "SECRET_KEY": "a-production-like-secret-key-of-enough-length-0123456789",
        "DJANGO_SETTINGS_MODULE": "backend.settings.base",
    }
    env.pop("OAUTH2_REDIRECT_URI_SCHEMES", None)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(' '.join(settings.OAUTH2_PROVIDER['ALLOWED_REDIRECT_URI_SCHEMES']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"https", "http"}
