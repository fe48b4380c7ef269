"""allauth's HTML account pages under /accounts/, next to the accounts API on the same prefix."""

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership
from tests.conftest import jwt_client
from tests.factories import DEFAULT_PASSWORD, AccountFactory, MembershipFactory, UserFactory
from users.models import User


def test_it_renders_the_login_page(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b'name="login"' in response.content and b'name="password"' in response.content


def test_it_logs_in_by_email_or_username_with_a_session(user):
    for identifier in (user.email, user.username):
        browser = Client()
        response = browser.post(
            "/accounts/login/", {"login": identifier, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302, identifier
        assert response["Location"] == "/api/v1/users/me/"
        # The session authenticates the API (browsable API / same-site pages).
        me = browser.get("/api/v1/users/me/", HTTP_ACCEPT="application/json")
        assert me.status_code == 200
        assert me.json()["email"] == user.email


def test_it_refuses_a_wrong_password_on_the_login_page(user):
    browser = Client()
    response = browser.post("/accounts/login/", {"login": user.email, "password": "wrong-one"})
    assert response.status_code == 200  # the form again, with an error
    assert response.context["form"].errors
    assert "_auth_user_id" not in browser.session


def test_it_keeps_the_accounts_api_on_the_same_prefix(user):
    account = AccountFactory()
    MembershipFactory(account=account, user=user, role=Membership.Role.ADMIN)
    client = jwt_client(user)

    detail = client.get(f"/accounts/{account.pk}/")
    assert detail.status_code == 200
    assert detail["Content-Type"] == "application/json"
    assert detail.json()["id"] == account.pk

    listing = client.get("/accounts/")
    assert listing.status_code == 200
    assert account.pk in [item["id"] for item in listing.json()["results"]]

    assert client.get(f"/accounts/{account.pk}/members/").status_code == 200
    assert client.get(f"/accounts/{account.pk}/destinations/").status_code == 200
    assert client.get(f"/accounts/{account.pk}/logs/").status_code == 200


def test_it_answers_json_404_for_another_tenants_account(user):
    account = AccountFactory()
    response = jwt_client(user).get(f"/accounts/{account.pk}/")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "details"}


def test_it_answers_json_401_on_the_accounts_api_without_credentials(db):
    response = APIClient().get("/accounts/")
    assert response.status_code == 401
    assert set(response.json()) == {"error", "details"}


def signup(browser, email="new.person@example.com", username="newperson"):
    return browser.post(
        "/accounts/signup/",
        {
            "email": email,
            "username": username,
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )


def test_it_signs_up_a_user_like_api_registration(db):
    browser = Client()
    assert browser.get("/accounts/signup/").status_code == 200

    response = signup(browser, email="New.Person@Example.com")

    assert response.status_code == 302, response.context["form"].errors
    user = User.objects.get(username="newperson")
    assert user.email == "new.person@example.com"
    # user_registered was sent: the personal account exists with the user as Admin.
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.ADMIN
    # The new user can use the API with a JWT.
    token = APIClient().post(
        "/api/v1/auth/token/", {"email": "new.person@example.com", "password": DEFAULT_PASSWORD}
    )
    assert token.status_code == 200, token.content
    assert set(token.json()) >= {"access", "refresh"}


def test_it_saves_no_user_when_the_personal_account_cannot_be_made(db, monkeypatch):
    from accounts import services as account_services

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(account_services, "account_create_personal", broken)
    with pytest.raises(RuntimeError):
        signup(Client(), email="half@example.com")
    assert not User.objects.filter(email="half@example.com").exists()


def test_it_refuses_a_signup_with_a_taken_email_in_another_case(user):
    response = signup(Client(), email=user.email.upper(), username="someone-else")
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.filter(username="someone-else").exists()


def test_it_confirms_the_email_address(db):
    browser = Client()
    signup(browser)
    user = User.objects.get(username="newperson")
    assert user.email_confirmed is False
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body

    response = browser.post(link.group(1))

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_confirmed is True


def test_it_sends_a_password_reset_link_from_the_html_page(user):
    browser = Client()
    assert browser.get("/accounts/password/reset/").status_code == 200
    mail.outbox.clear()

    response = browser.post("/accounts/password/reset/", {"email": user.email})

    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_it_logs_out_from_the_html_page(user):
    browser = Client()
    browser.force_login(user)
    response = browser.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in browser.session


def test_it_answers_html_errors_on_allauth_pages(db):
    response = Client().get("/accounts/password/reset/key/bad-key/")
    assert response["Content-Type"].startswith("text/html")


def test_it_creates_no_user_for_an_invalid_signup(db):
    response = Client().post(
        "/accounts/signup/",
        {"email": "x@example.com", "username": "x", "password1": "a", "password2": "b"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.filter(email="x@example.com").exists()


def test_it_does_not_reveal_whether_an_address_is_registered_on_reset(db):
    UserFactory(email="known@example.com")
    mail.outbox.clear()
    known = Client().post("/accounts/password/reset/", {"email": "known@example.com"})
    unknown = Client().post("/accounts/password/reset/", {"email": "unknown@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_it_answers_the_account_detail_to_a_normal_member(user):
    account = AccountFactory()
    MembershipFactory(account=account, user=user, role=Membership.Role.NORMAL_USER)
    response = jwt_client(user).get(f"/accounts/{account.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == account.pk
