"""Ingest with OAuth2: a bound application's client-credentials token with the ingest scope sends
data for the bound account; anything less is refused and nothing is stored."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import Membership
from destinations.models import Event
from tests.factories import AccountFactory, MembershipFactory
from tests.oauth.conftest import (
    REDIRECT_URI,
    REVOKE_URL,
    basic_auth,
    bearer_client,
    client_credentials_token,
    form_post,
    make_application,
)

URLS = ["/api/v1/incoming-data/", "/server/incoming_data/"]


@pytest.mark.parametrize("url", URLS)
def test_it_accepts_an_ingest_token_of_a_bound_application(bound_app, ingest_account, url):
    token = client_credentials_token(*bound_app, scope="ingest")

    response = bearer_client(token).post(url, {"order": 42}, format="json")

    assert response.status_code == 200, response.content
    event = Event.objects.get()
    assert response.json() == {"message": "Data Received", "event_id": event.event_id}
    assert event.account == ingest_account and event.payload == {"order": 42}


@pytest.mark.parametrize("url", URLS)
def test_it_refuses_a_token_without_the_ingest_scope(bound_app, url):
    token = client_credentials_token(*bound_app, scope="read write")

    response = bearer_client(token).post(url, {"order": 42}, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == 'This OAuth2 token lacks the "ingest" scope.'
    assert not Event.objects.exists()


def test_it_refuses_an_application_without_an_account(cc_app):
    token = client_credentials_token(*cc_app, scope="ingest")
    response = bearer_client(token).post(URLS[0], {"a": 1}, format="json")
    assert response.status_code == 403
    assert "not bound to an account" in response.json()["error"]
    assert not Event.objects.exists()


def test_it_stops_when_the_owner_is_no_longer_an_admin(bound_app, owner, ingest_account):
    token = client_credentials_token(*bound_app, scope="ingest")
    Membership.objects.filter(user=owner, account=ingest_account).update(
        role=Membership.Role.NORMAL_USER
    )
    response = bearer_client(token).post(URLS[0], {"a": 1}, format="json")
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_it_answers_401_for_a_revoked_token(bound_app):
    application, secret = bound_app
    token = client_credentials_token(application, secret, scope="ingest")
    form_post(
        REVOKE_URL,
        {"token": token},
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
    )
    response = bearer_client(token).post(URLS[1], {"a": 1}, format="json")
    assert response.status_code == 401
    assert not Event.objects.exists()


def test_it_refuses_a_token_another_user_granted_the_application(owner, ingest_account, user):
    # An authorization-code application bound to the owner's account: a token that some other
    # user granted it acts for that user, not for the owner's account.
    application, _ = make_application(
        user=owner,
        grant="authorization-code",
        client_type="public",
        redirect_uris=REDIRECT_URI,
        account_id=ingest_account.pk,
    )
    AccessToken.objects.create(
        user=user,
        application=application,
        token="GrantedByAnotherUser0123456789",
        scope="ingest",
        expires=timezone.now() + timedelta(minutes=5),
    )
    response = bearer_client("GrantedByAnotherUser0123456789").post(
        URLS[0], {"a": 1}, format="json"
    )
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_it_refuses_a_cl_x_token_of_an_account_the_token_user_is_not_in(bound_app):
    # SPEC section 6: with an Authorization header, its user must be a member of the account
    # that the CL-X-TOKEN names.
    other = AccountFactory()
    MembershipFactory(account=other)
    token = client_credentials_token(*bound_app, scope="ingest")
    client = bearer_client(token)
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_CL_X_TOKEN=str(other.app_secret_token)
    )
    response = client.post(URLS[1], {"a": 1}, format="json")
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_it_lets_the_cl_x_token_decide_for_a_member(bound_app, ingest_account):
    token = client_credentials_token(*bound_app, scope="ingest")
    client = bearer_client(token)
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_CL_X_TOKEN=str(ingest_account.app_secret_token),
    )
    response = client.post(URLS[1], {"a": 1}, format="json")
    assert response.status_code == 200
    assert Event.objects.get().account == ingest_account
