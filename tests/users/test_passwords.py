"""Passwords (users.services.passwords): reset and change.

Password reset: no enumeration, single use, expiry, sessions revoked, seed 002's route, SMTP.

Password change: old password required, validated, other sessions logged out.
"""

import email
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils import timezone

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.worker import free_port, wait_until
from tests.users.conftest import bearer, login
from tests.users.lifecycle import token_from, token_in
from tests.users.test_authentication import assert_401
from users.models import PasswordResetToken

pytestmark = pytest.mark.django_db

REQUEST = "/api/v1/auth/password/reset/"
CONFIRM = "/api/v1/auth/password/reset/confirm/"
CONTROL = "/api/access/reset-password-control/"
NEW_PASSWORD = "An0ther-long-passphrase"
REQUESTED = {
    "message": "If an account uses this email address, a password reset link is on its way.",
}
DONE = {"message": "Your password has been reset. Log in with the new password."}
INVALID = {"token": ["This link is invalid, has expired or was already used."]}


@pytest.fixture(autouse=True)
def _mail_within_the_request(settings):
    """These tests follow the flow in one process; the worker path has its own tests below."""
    settings.PASSWORD_RESET_MAIL_ASYNC = False


@pytest.fixture
def send_mail_now(django_capture_on_commit_callbacks):
    """Runs on-commit callbacks (the mail) at the end of each block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def request_reset(client, email, send_mail_now, path=REQUEST):
    with send_mail_now():
        response = client.post(path, {"email": email}, format="json")
    assert response.status_code == 200, response.content
    return response


def test_it_answers_the_same_for_known_and_unknown_emails(api_client, user, send_mail_now):
    known = request_reset(api_client, user.email.upper(), send_mail_now)
    unknown = request_reset(api_client, "nobody@example.com", send_mail_now)
    assert known.json() == unknown.json() == REQUESTED
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert PasswordResetToken.objects.count() == 1


def test_it_sends_nothing_for_an_inactive_user(api_client, send_mail_now):
    inactive = UserFactory(is_active=False)
    assert request_reset(api_client, inactive.email, send_mail_now).json() == REQUESTED
    assert mail.outbox == []


def test_it_resets_once_and_revokes_every_token(api_client, user, pair, send_mail_now):
    request_reset(api_client, user.email, send_mail_now)
    raw = token_from(mail.outbox[0])
    assert mail.outbox[0].subject == "Reset your password"

    response = api_client.post(CONFIRM, {"token": raw, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == DONE
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.email_confirmed is True
    # Every token issued before the reset is dead.
    assert_401(bearer(pair["access"]).get("/api/v1/users/me/"))
    refreshed = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert refreshed.status_code == 401
    assert login(api_client, user.email, DEFAULT_PASSWORD).status_code == 401
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200

    again = api_client.post(CONFIRM, {"token": raw, "new_password": "Yet-an0ther-one!"})
    assert again.status_code == 400
    assert again.json()["details"] == INVALID
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_it_refuses_an_expired_token(api_client, user, send_mail_now):
    request_reset(api_client, user.email, send_mail_now)
    PasswordResetToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_client.post(
        CONFIRM, {"token": token_from(mail.outbox[0]), "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert response.json()["details"] == INVALID
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_it_refuses_a_weak_password_without_spending_the_token(api_client, user, send_mail_now):
    request_reset(api_client, user.email, send_mail_now)
    raw = token_from(mail.outbox[0])
    weak = api_client.post(CONFIRM, {"token": raw, "new_password": "123"}, format="json")
    assert weak.status_code == 400
    assert list(weak.json()["details"]) == ["new_password"]
    mismatch = api_client.post(
        CONFIRM,
        {"token": raw, "new_password": NEW_PASSWORD, "new_password_confirm": "other"},
        format="json",
    )
    assert list(mismatch.json()["details"]) == ["new_password_confirm"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    ok = api_client.post(CONFIRM, {"token": raw, "new_password": NEW_PASSWORD}, format="json")
    assert ok.status_code == 200


def test_only_the_newest_link_works(api_client, user, send_mail_now):
    request_reset(api_client, user.email, send_mail_now)
    request_reset(api_client, user.email, send_mail_now)
    first, second = (token_from(m) for m in mail.outbox)
    old = api_client.post(CONFIRM, {"token": first, "new_password": NEW_PASSWORD}, format="json")
    assert old.status_code == 400
    new = api_client.post(CONFIRM, {"token": second, "new_password": NEW_PASSWORD}, format="json")
    assert new.status_code == 200


def test_it_requests_and_confirms_through_the_seed_route(api_client, user, send_mail_now):
    assert request_reset(api_client, user.email, send_mail_now, path=CONTROL).json() == REQUESTED
    raw = token_from(mail.outbox[0])
    half = api_client.post(CONTROL, {"token": raw}, format="json")
    assert half.status_code == 400
    assert half.json()["details"] == {"new_password": ["This field is required."]}
    both = api_client.post(CONTROL, {"email": user.email, "token": raw}, format="json")
    assert list(both.json()["details"]) == ["email"]
    response = api_client.post(CONTROL, {"token": raw, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json() == DONE
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_it_refuses_a_bad_email(api_client):
    response = api_client.post(REQUEST, {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["email"]


class Inbox:
    """aiosmtpd handler: keeps every message received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def text_part(envelope) -> str:
    """The decoded text/plain part of a received message (the token travels encoded in it)."""
    message = email.message_from_string(envelope.content.decode())
    return next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield inbox
    controller.stop()


def test_it_sends_the_reset_mail_through_real_smtp(api_client, user, smtp_server, send_mail_now):
    request_reset(api_client, user.email, send_mail_now)
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == [user.email]
    content = envelope.content.decode()
    assert "Subject: Reset your password" in content
    assert "multipart/alternative" in content
    raw = token_in(text_part(envelope))
    response = api_client.post(CONFIRM, {"token": raw, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200


def test_the_request_does_the_same_work_for_known_and_unknown_addresses(
    api_client, user, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_MAIL_ASYNC = True
    for address in (user.email, "nobody@example.com"):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = api_client.post(REQUEST, {"email": address}, format="json")
        assert response.json() == REQUESTED
        # One publish after commit, nothing else: the worker looks the address up.
        assert len(callbacks) == 1
    assert PasswordResetToken.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_it_mails_within_the_request_when_the_broker_is_down(
    api_client, user, settings, broker_down
):
    settings.PASSWORD_RESET_MAIL_ASYNC = True
    response = api_client.post(REQUEST, {"email": user.email}, format="json")
    assert response.json() == REQUESTED
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert PasswordResetToken.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_makes_and_mails_the_reset_link(api_client, settings, celery_worker_process):
    settings.PASSWORD_RESET_MAIL_ASYNC = True
    user = UserFactory()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        worker = celery_worker_process(
            extra_env={
                "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(controller.port),
            }
        )
        for address in (user.email, "nobody@example.com"):
            response = api_client.post(REQUEST, {"email": address}, format="json")
            assert response.json() == REQUESTED
        wait_until(
            lambda: (
                worker.logs().count("users.send_password_reset[") >= 2
                and worker.logs().count("succeeded") >= 2
            ),
            timeout=30,
            message="the reset tasks did not finish",
        )
    finally:
        controller.stop()
    # One mail, to the known address only; the token was made in the worker.
    assert [m.rcpt_tos for m in inbox.messages] == [[user.email]]
    raw = token_in(text_part(inbox.messages[0]))
    response = api_client.post(CONFIRM, {"token": raw, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200


CHANGE = "/api/v1/auth/password/change/"


def test_it_changes_the_password_and_logs_out_other_sessions(api_client, user):
    first = login(api_client, user.email).json()
    second = login(api_client, user.email).json()
    response = bearer(first["access"]).post(
        CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"message", "access", "refresh"}
    assert body["message"] == "Your password has been changed."
    for old in (first, second):
        assert_401(bearer(old["access"]).get("/api/v1/users/me/"))
    assert bearer(body["access"]).get("/api/v1/users/me/").status_code == 200
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    assert login(api_client, user.email, DEFAULT_PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"old_password": "wrong", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": DEFAULT_PASSWORD, "new_password": "short"}, "new_password"),
        (
            {
                "old_password": DEFAULT_PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": "x",
            },
            "new_password_confirm",
        ),
        ({"new_password": NEW_PASSWORD}, "old_password"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(auth_client, user, payload, field):
    response = auth_client.post(CHANGE, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == [field]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_it_requires_authentication(api_client):
    assert_401(api_client.post(CHANGE, {"old_password": "a", "new_password": "b"}, format="json"))
