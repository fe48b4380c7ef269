"""Email confirmation: the mail sent at registration, confirm once, expiry, resend, seed 002."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.users.conftest import login
from tests.users.lifecycle import last_mail_to, token_from
from tests.users.test_authentication import assert_401
from users.models import EmailConfirmationToken, User

pytestmark = pytest.mark.django_db

PASSWORD = "Corr3ct-horse-battery"
CONFIRM = "/api/v1/auth/email/confirm/"
RESEND = "/api/v1/auth/email/resend/"
CONTROL = "/api/access/email-confirmation-control/"
INVALID = {
    "error": "Invalid input: token: This link is invalid, has expired or was already used.",
    "details": {"token": ["This link is invalid, has expired or was already used."]},
}


def register(client, email="new@example.com"):
    response = client.post(
        "/api/v1/auth/register/", {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201, response.content
    return User.objects.get(email=email)


def test_it_mails_a_confirmation_link_on_registration(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = register(api_client)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.com"]
    assert message.subject == "Confirm your email address"
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    raw = token_from(message)
    assert raw in html
    row = EmailConfirmationToken.objects.get(user=user)
    # Only a hash is stored.
    assert raw not in row.token_hash and len(row.token_hash) == 64
    assert row.used_at is None


def test_it_confirms_once(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = register(api_client)
    raw = token_from(mail.outbox[0])
    response = api_client.post(CONFIRM, {"token": raw}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "message": "Your email address is confirmed.",
        "email_confirmed": True,
    }
    user.refresh_from_db()
    assert user.email_confirmed is True
    assert EmailConfirmationToken.objects.get(user=user).used_at is not None

    again = api_client.post(CONFIRM, {"token": raw}, format="json")
    assert again.status_code == 400
    assert again.json() == INVALID


def test_it_refuses_an_expired_token(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = register(api_client)
    EmailConfirmationToken.objects.filter(user=user).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = api_client.post(CONFIRM, {"token": token_from(mail.outbox[0])}, format="json")
    assert response.status_code == 400
    assert response.json() == INVALID
    user.refresh_from_db()
    assert user.email_confirmed is False


def test_it_refuses_unknown_tokens_and_fields(api_client):
    assert api_client.post(CONFIRM, {"token": "nope"}, format="json").json() == INVALID
    response = api_client.post(CONFIRM, {"token": "x", "email": "a@b.c"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"email": ["Unknown field."]}


def test_it_resends_and_invalidates_the_older_link(
    api_client, password, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = register(api_client)
    first = token_from(mail.outbox[0])
    access = login(api_client, user.email, PASSWORD).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RESEND)
    assert response.status_code == 200, response.content
    assert response.json() == {"message": "A new confirmation email is on its way."}
    assert len(mail.outbox) == 2
    second = token_from(mail.outbox[1])
    assert second != first
    api_client.credentials()
    assert api_client.post(CONFIRM, {"token": first}, format="json").status_code == 400
    assert api_client.post(CONFIRM, {"token": second}, format="json").status_code == 200


def test_it_refuses_to_resend_when_confirmed_or_anonymous(auth_client, user, api_client):
    assert_401(api_client.post(RESEND))
    User.objects.filter(pk=user.pk).update(email_confirmed=True)
    response = auth_client.post(RESEND)
    assert response.status_code == 400
    assert response.json() == {"error": "Your email address is already confirmed.", "details": {}}
    assert mail.outbox == []


def test_it_throttles_resend(auth_client, settings, django_capture_on_commit_callbacks):
    # The default budget (EMAIL_RESEND_THROTTLE_RATE) is 5 an hour.
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["email_resend"] == "5/hour"
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [auth_client.post(RESEND).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert len(mail.outbox) == 5


def test_it_confirms_and_resends_through_the_seed_route(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = register(api_client)
    access = login(api_client, user.email, PASSWORD).json()["access"]
    assert_401(api_client.post(CONTROL, {"action": "resend"}, format="json"))

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(CONTROL, {"action": "resend"}, format="json").status_code == 200
        assert api_client.post(CONTROL + "resend/").status_code == 200
    assert len(mail.outbox) == 3
    api_client.credentials()
    raw = token_from(last_mail_to(user.email))
    response = api_client.post(CONTROL, {"token": raw}, format="json")
    assert response.status_code == 200
    assert response.json()["email_confirmed"] is True
    assert api_client.post(CONTROL, {"token": raw}, format="json").json() == INVALID
    bad = api_client.post(CONTROL, {}, format="json")
    assert bad.status_code == 400
    assert list(bad.json()["details"]) == ["token"]
