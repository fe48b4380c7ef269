"""Revocation (RFC 7009) ends a token at once; introspection (RFC 7662) reports its state."""

import hashlib
from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import AccessToken

from endpoints.tasks import clear_expired_oauth2_tokens
from tests.oauth.conftest import (
    INTROSPECT_URL,
    REVOKE_URL,
    basic_auth,
    bearer_client,
    client_credentials_token,
    form_post,
)


def introspect(application, secret, token):
    response = form_post(
        INTROSPECT_URL,
        {"token": token},
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_it_reports_an_active_token(cc_app, owner):
    application, secret = cc_app
    token = client_credentials_token(application, secret, scope="read ingest")

    body = introspect(application, secret, token)

    assert body["active"] is True
    assert set(body["scope"].split()) == {"read", "ingest"}
    assert body["client_id"] == application.client_id
    assert isinstance(body["exp"], int)


def test_it_reports_an_unknown_token_as_inactive(cc_app):
    assert introspect(*cc_app, "NoSuchToken0123456789abcdefghij") == {"active": False}


def test_it_refuses_introspection_without_client_credentials(cc_app):
    token = client_credentials_token(*cc_app)
    response = form_post(INTROSPECT_URL, {"token": token})
    assert response.status_code in (401, 403)
    assert b"active" not in response.content


def test_it_revokes_a_token_so_it_gets_401(cc_app):
    application, secret = cc_app
    token = client_credentials_token(application, secret, scope="read")
    client = bearer_client(token)
    assert client.get("/api/v1/users/me/").status_code == 200

    response = form_post(
        REVOKE_URL,
        {"token": token, "token_type_hint": "access_token"},
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )

    assert response.status_code == 200
    assert not AccessToken.objects.exists()
    after = client.get("/api/v1/users/me/")
    assert after.status_code == 401
    assert after["WWW-Authenticate"] == 'Bearer realm="api"'
    assert introspect(application, secret, token) == {"active": False}


def test_it_stores_tokens_hashed_not_in_plaintext(cc_app):
    token = client_credentials_token(*cc_app)
    stored = AccessToken.objects.get()
    assert stored.token != token
    assert token not in stored.token_checksum


def test_it_purges_expired_tokens(cc_app):
    application, secret = cc_app
    live = client_credentials_token(application, secret)
    expired = client_credentials_token(application, secret)
    AccessToken.objects.exclude(token_checksum=_checksum(live)).update(
        expires=timezone.now() - timedelta(days=1)
    )

    clear_expired_oauth2_tokens()

    assert list(AccessToken.objects.values_list("token_checksum", flat=True)) == [_checksum(live)]
    assert introspect(application, secret, expired) == {"active": False}


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
