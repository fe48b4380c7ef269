"""Authorization code with PKCE through the real views: login page, consent, code, token."""

from urllib.parse import parse_qs, urlencode, urlparse

from django.test import Client

from tests.factories import DEFAULT_PASSWORD
from tests.oauth.conftest import (
    AUTHORIZE_URL,
    REDIRECT_URI,
    TOKEN_URL,
    bearer_client,
    form_post,
    make_application,
    pkce_pair,
)


def public_app(user):
    application, _ = make_application(
        user=user,
        grant="authorization-code",
        client_type="public",
        redirect_uris=REDIRECT_URI,
    )
    return application


def authorize_query(application, challenge=None, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read",
        "state": "xyz",
        **extra,
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return f"{AUTHORIZE_URL}?{urlencode(params)}"


def consent(browser, authorize_url):
    """The consent page's own form, submitted with "Authorize"; returns the response."""
    page = browser.get(authorize_url)
    assert page.status_code == 200
    return allow(browser, authorize_url, page)


def allow(browser, authorize_url, page):
    fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    return browser.post(authorize_url, {**fields, "allow": "Authorize"})


def test_it_completes_the_flow_for_a_user_who_logs_in(owner, user):
    application = public_app(owner)
    verifier, challenge = pkce_pair()
    browser = Client()
    authorize_url = authorize_query(application, challenge)

    # Not logged in: the authorize page sends the browser to allauth's login page.
    response = browser.get(authorize_url)
    assert response.status_code == 302
    login_url = response["Location"]
    assert login_url.startswith("/accounts/login/?next=")

    # Log in there; the login page sends the browser back to the consent page.
    response = browser.post(
        login_url,
        {"login": user.email, "password": DEFAULT_PASSWORD, "next": authorize_url},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == authorize_url
    assert b"Authorize" in response.content

    # Consent: the redirect to the client carries the code, the state and the issuer.
    response = allow(browser, authorize_url, response)
    assert response.status_code == 302
    redirect = urlparse(response["Location"])
    assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == REDIRECT_URI
    query = parse_qs(redirect.query)
    assert query["state"] == ["xyz"]
    assert "iss" in query
    code = query["code"][0]

    # The code is exchanged with the verifier (a public client: no secret).
    response = form_post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": application.client_id,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    tokens = response.json()
    assert tokens["scope"] == "read" and tokens["refresh_token"]

    # The token acts for the user who consented, not the application's owner.
    me = bearer_client(tokens["access_token"]).get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_it_refuses_a_wrong_code_verifier(owner, user):
    application = public_app(owner)
    _, challenge = pkce_pair()
    browser = Client()
    browser.force_login(user)
    authorize_url = authorize_query(application, challenge)
    code = parse_qs(urlparse(consent(browser, authorize_url)["Location"]).query)["code"][0]

    response = form_post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": application.client_id,
            "code_verifier": pkce_pair()[0],
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_it_requires_pkce(owner, user):
    application = public_app(owner)
    browser = Client()
    browser.force_login(user)

    response = browser.get(authorize_query(application))

    # The error goes back to the client's redirect URI, never a code.
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "code" not in query


def test_it_refuses_the_plain_pkce_method(owner, user):
    application = public_app(owner)
    browser = Client()
    browser.force_login(user)
    verifier, _ = pkce_pair()

    response = consent(
        browser,
        authorize_query(application, code_challenge=verifier, code_challenge_method="plain"),
    )

    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert "error" in query and "code" not in query
