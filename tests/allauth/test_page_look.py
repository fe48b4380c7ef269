"""Every server-rendered page (allauth's account pages, the OAuth2 pages) has the project's own look:
one base template and a local stylesheet, no CDN (issue 11, item 15)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, override_settings

from tests.oauth.conftest import make_application, pkce_pair

STYLESHEET = "/static/site/site.css"
ANONYMOUS_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/confirm-email/",
    "/accounts/password/reset/key/done/",
    "/api/v1/auth/login/",  # the browsable API's session login
]
LOGGED_IN_PAGES = [
    "/accounts/logout/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/api/v1/oauth2/applications/",
    "/api/v1/oauth2/applications/register/",
    "/api/v1/oauth2/authorized_tokens/",
]


def assert_has_the_site_look(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f'<link rel="stylesheet" href="{STYLESHEET}">' in html
    assert 'class="site-card"' in html
    # No stylesheet or script from anywhere else.
    assert not re.search(r'(href|src)="(https?:)?//', html)


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_the_anonymous_account_pages_have_the_site_look(db, path):
    assert_has_the_site_look(Client().get(path))


@pytest.mark.parametrize("path", LOGGED_IN_PAGES)
def test_the_logged_in_pages_have_the_site_look(user, path):
    browser = Client()
    browser.force_login(user)
    assert_has_the_site_look(browser.get(path))


def test_the_oauth2_consent_page_has_the_site_look(user):
    application, _ = make_application(
        user=user,
        grant="authorization-code",
        client_type="public",
        redirect_uris="https://client.example.com/cb",
    )
    _, challenge = pkce_pair()
    browser = Client()
    browser.force_login(user)
    response = browser.get(
        "/api/v1/oauth2/authorize/",
        {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": "https://client.example.com/cb",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert_has_the_site_look(response)
    assert b'name="allow"' in response.content


def test_the_login_page_keeps_its_form_inside_the_layout(db):
    html = Client().get("/accounts/login/").content.decode()
    assert html.index('class="site-card"') < html.index('name="login"')
    assert "Sign Up" in html


@override_settings(WHITENOISE_USE_FINDERS=True)  # tests run without collectstatic
def test_the_stylesheet_is_a_local_static_file(db):
    assert finders.find("site/site.css")
    response = Client().get(STYLESHEET)  # a new client: WhiteNoise set up with the override
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b".site-card" in body


def test_the_browsable_api_login_shows_a_wrong_password_in_the_layout(user):
    response = Client().post(
        "/api/v1/auth/login/", {"username": user.email, "password": "wrong-one"}
    )
    assert_has_the_site_look(response)
    assert 'class="errorlist"' in response.content.decode()
