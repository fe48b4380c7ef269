"""Invitations: POST /api/v1/users/invite/ and the set-password link (invitations/accept/)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Membership
from accounts.tokens import invitation_token_generator
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
INVITE_URL = "/api/v1/users/invite/"
ACCEPT_URL = "/api/v1/invitations/accept/"
NEW_PASSWORD = "An0ther-long-passphrase"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Runs on_commit callbacks (the emails) as the request's transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def link_params(message) -> dict:
    [link] = re.findall(r"https?://\S+", message.body)
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    return {"path": parts.path, "uid": query["uid"][0], "token": query["token"][0]}


def test_it_invites_an_unknown_email_as_an_inactive_user(
    admin_client, account, admin_user, mailoutbox, commit
):
    with commit():
        response = admin_client.post(
            INVITE_URL, {"email": "New.Person@Example.com", "account_id": account.pk}
        )
    assert response.status_code == 201
    invited = User.objects.get(email="new.person@example.com")
    assert not invited.is_active
    assert not invited.has_usable_password()
    membership = Membership.objects.get(account=account, user=invited)
    assert membership.role == Membership.Role.NORMAL_USER
    body = response.json()
    assert body["user_created"] is True
    assert body["invitation_pending"] is True
    assert body["membership"]["id"] == membership.pk
    assert body["membership"]["is_active"] is False

    [message] = mailoutbox
    assert message.to == ["new.person@example.com"]
    assert account.name in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    params = link_params(message)
    assert params["path"] == ACCEPT_URL
    assert params["token"] in html
    assert "token" not in str(body)


def test_it_accepts_an_invitation_once(api_client, admin_client, account, mailoutbox, commit):
    with commit():
        admin_client.post(INVITE_URL, {"email": "joiner@example.com", "account_id": account.pk})
    params = link_params(mailoutbox[0])

    check = api_client.get(params["path"], {"uid": params["uid"], "token": params["token"]})
    assert check.status_code == 200
    assert check.json()["valid"] is True
    assert check.json()["email"] == "joiner@example.com"

    payload = {"uid": params["uid"], "token": params["token"], "password": NEW_PASSWORD}
    response = api_client.post(ACCEPT_URL, payload)
    assert response.status_code == 200
    user = User.objects.get(email="joiner@example.com")
    assert response.json() == {
        "message": "Invitation accepted: you can now log in.",
        "id": str(user.pk),
        "email": user.email,
    }
    assert user.is_active
    assert user.check_password(NEW_PASSWORD)
    assert user.email_confirmed

    login = api_client.post(
        "/users/login/", {"email": "joiner@example.com", "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
    assert login.json()["accounts"] == [account.pk]

    reused = api_client.post(ACCEPT_URL, {**payload, "password": "Yet-an0ther-passphrase"})
    assert reused.status_code == 400
    assert "token" in reused.json()["details"]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_it_refuses_an_expired_token(api_client, account):
    invited = User.objects.create_user(email="late@example.com", password=None, is_active=False)
    generator = invitation_token_generator
    past = generator._num_seconds(generator._now()) - settings.PASSWORD_RESET_TIMEOUT - 60
    token = generator._make_token_with_timestamp(invited, past, generator.secret)
    uid = urlsafe_base64_encode(force_bytes(invited.pk))
    response = api_client.post(ACCEPT_URL, {"uid": uid, "token": token, "password": NEW_PASSWORD})
    assert response.status_code == 400
    assert response.json()["details"] == {
        "token": ["This invitation link is invalid or has expired."]
    }
    invited.refresh_from_db()
    assert not invited.is_active
    assert not invited.has_usable_password()
    # The same user with a fresh token succeeds: only the age made the first one fail.
    fresh = generator.make_token(invited)
    response = api_client.post(ACCEPT_URL, {"uid": uid, "token": fresh, "password": NEW_PASSWORD})
    assert response.status_code == 200


def test_it_refuses_bad_tokens_and_weak_passwords(
    api_client, admin_client, account, mailoutbox, commit
):
    with commit():
        admin_client.post(INVITE_URL, {"email": "weak@example.com", "account_id": account.pk})
    params = link_params(mailoutbox[0])

    response = api_client.post(
        ACCEPT_URL, {"uid": params["uid"], "token": "1-abc", "password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert "token" in response.json()["details"]
    response = api_client.post(
        ACCEPT_URL, {"uid": "garbage", "token": params["token"], "password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert "token" in response.json()["details"]
    assert api_client.get(ACCEPT_URL, {"uid": "garbage", "token": "x"}).status_code == 400

    response = api_client.post(
        ACCEPT_URL, {"uid": params["uid"], "token": params["token"], "password": "123"}
    )
    assert response.status_code == 400
    assert "password" in response.json()["details"]
    response = api_client.post(
        ACCEPT_URL,
        {
            "uid": params["uid"],
            "token": params["token"],
            "password": NEW_PASSWORD,
            "password_confirm": "different",
        },
    )
    assert response.status_code == 400
    assert "password_confirm" in response.json()["details"]
    response = api_client.post(ACCEPT_URL, {**params, "password": NEW_PASSWORD})
    assert response.status_code == 400
    assert response.json()["details"] == {"path": ["Unknown field."]}

    user = User.objects.get(email="weak@example.com")
    assert not user.is_active
    # Failed attempts do not use the link up.
    response = api_client.post(
        ACCEPT_URL, {"uid": params["uid"], "token": params["token"], "password": NEW_PASSWORD}
    )
    assert response.status_code == 200


def test_it_adds_an_existing_user_with_the_given_role(admin_client, account, mailoutbox, commit):
    existing = UserFactory()
    with commit():
        response = admin_client.post(
            INVITE_URL, {"email": existing.email, "account_id": account.pk, "role": "Admin"}
        )
    assert response.status_code == 201
    assert response.json()["user_created"] is False
    assert response.json()["invitation_pending"] is False
    assert Membership.objects.get(account=account, user=existing).role == Membership.Role.ADMIN
    existing.refresh_from_db()
    assert existing.check_password(DEFAULT_PASSWORD)
    [message] = mailoutbox
    assert message.to == [existing.email]
    assert "/invitations/accept/" not in message.body


def test_it_refuses_to_invite_a_member_again(
    admin_client, account, member_user, mailoutbox, commit
):
    with commit():
        response = admin_client.post(
            INVITE_URL, {"email": member_user.email, "account_id": account.pk}
        )
    assert response.status_code == 409
    assert set(response.json()) == {"error", "details"}
    assert "email" in response.json()["details"]
    assert Membership.objects.filter(account=account, user=member_user).count() == 1
    assert mailoutbox == []


def test_it_resends_the_link_to_a_pending_invitee(admin_client, account, mailoutbox, commit):
    with commit():
        admin_client.post(INVITE_URL, {"email": "slow@example.com", "account_id": account.pk})
    with commit():
        response = admin_client.post(
            INVITE_URL, {"email": "slow@example.com", "account_id": account.pk}
        )
    assert response.status_code == 200
    assert response.json()["invitation_pending"] is True
    assert len(mailoutbox) == 2
    assert link_params(mailoutbox[1])["uid"] == link_params(mailoutbox[0])["uid"]
    assert User.objects.filter(email="slow@example.com").count() == 1


def test_it_keeps_invitations_to_admins(
    api_client, member_client, outsider_client, account, mailoutbox, commit
):
    payload = {"email": "x@example.com", "account_id": account.pk}
    with commit():
        assert member_client.post(INVITE_URL, payload).status_code == 403
        assert outsider_client.post(INVITE_URL, payload).status_code == 404
        assert (
            outsider_client.post(INVITE_URL, {**payload, "account_id": 999999}).status_code == 404
        )
        assert api_client.post(INVITE_URL, payload).status_code == 401
    assert not User.objects.filter(email="x@example.com").exists()
    assert mailoutbox == []


def test_it_validates_the_invitation(admin_client, account, mailoutbox, commit):
    with commit():
        response = admin_client.post(
            INVITE_URL, {"email": "y@example.com", "account_id": account.pk, "role": "boss"}
        )
        assert response.status_code == 400
        assert "role" in response.json()["details"]
        response = admin_client.post(
            INVITE_URL, {"email": "y@example.com", "account_id": account.pk, "acount": 1}
        )
        assert response.status_code == 400
        assert response.json()["details"] == {"acount": ["Unknown field."]}
        response = admin_client.post(
            INVITE_URL, {"email": "not-an-email", "account_id": account.pk}
        )
        assert response.status_code == 400
        assert "email" in response.json()["details"]
    assert not User.objects.filter(email="y@example.com").exists()
    assert mailoutbox == []


def test_it_does_not_let_a_pending_invitee_log_in(api_client, admin_client, account, commit):
    with commit():
        admin_client.post(INVITE_URL, {"email": "pending@example.com", "account_id": account.pk})
    response = api_client.post("/users/login/", {"email": "pending@example.com", "password": ""})
    assert response.status_code in (400, 401)
    response = api_client.post(
        "/users/login/", {"email": "pending@example.com", "password": "anything-at-all"}
    )
    assert response.status_code == 401


def test_it_budgets_invitations_per_user(admin_client, account, monkeypatch, commit):
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "invite": "2/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    with commit():
        for n in range(2):
            response = admin_client.post(
                INVITE_URL, {"email": f"burst{n}@example.com", "account_id": account.pk}
            )
            assert response.status_code == 201
        response = admin_client.post(
            INVITE_URL, {"email": "burst2@example.com", "account_id": account.pk}
        )
    assert response.status_code == 429
    assert "Retry-After" in response
    assert not User.objects.filter(email="burst2@example.com").exists()
