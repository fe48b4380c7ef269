"""Staff API for OAuth2 applications: secret shown once and stored hashed, account binding rules."""

from oauth2_provider.models import AccessToken, Application

from accounts.models import Membership
from endpoints.models import OAuthApplicationAccount
from tests.conftest import jwt_client
from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tests.oauth.conftest import basic_auth, client_credentials_token, form_post, make_application

URL = "/api/v1/oauth2-applications/"
CC_BODY = {
    "name": "Ingest robot",
    "client_type": "confidential",
    "authorization_grant_type": "client-credentials",
}


def test_it_registers_an_application_and_shows_the_secret_once(staff_client, staff_user):
    response = staff_client.post(URL, CC_BODY)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "client_id",
        "client_secret",
        "client_type",
        "authorization_grant_type",
        "redirect_uris",
        "post_logout_redirect_uris",
        "allowed_origins",
        "skip_authorization",
        "user",
        "account",
        "created",
        "updated",
    }
    assert body["user"] == str(staff_user.pk) and body["account"] is None
    application = Application.objects.get()
    assert application.client_secret != body["client_secret"]  # stored hashed
    # The secret works at the token endpoint...
    assert client_credentials_token(application, body["client_secret"])
    # ...and is never shown again.
    detail = staff_client.get(f"{URL}{body['id']}/").json()
    assert "client_secret" not in detail
    listed = staff_client.get(URL).json()
    assert listed["count"] == 1 and "client_secret" not in listed["results"][0]


def test_it_binds_an_application_to_an_account_its_owner_administers(staff_client):
    owner = UserFactory()
    account = AccountFactory()
    MembershipFactory(account=account, user=owner, role=Membership.Role.ADMIN)

    response = staff_client.post(URL, {**CC_BODY, "user": str(owner.pk), "account": account.pk})

    assert response.status_code == 201, response.content
    assert response.json()["account"] == account.pk
    binding = OAuthApplicationAccount.objects.get()
    assert binding.account == account and binding.application.user == owner


def test_it_refuses_a_binding_when_the_owner_is_not_an_admin(staff_client):
    owner = UserFactory()
    account = AccountFactory()
    MembershipFactory(account=account, user=owner, role=Membership.Role.NORMAL_USER)

    response = staff_client.post(URL, {**CC_BODY, "user": str(owner.pk), "account": account.pk})

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["account"]
    assert not Application.objects.exists()
    assert not OAuthApplicationAccount.objects.exists()


def test_it_refuses_unknown_fields_and_bad_values(staff_client):
    response = staff_client.post(URL, {**CC_BODY, "client_secret": "mine", "colour": "red"})
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"client_secret", "colour"}

    response = staff_client.post(URL, {**CC_BODY, "authorization_grant_type": "password"})
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["authorization_grant_type"]

    response = staff_client.post(URL, {**CC_BODY, "client_type": "public"})
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["client_type"]
    assert not Application.objects.exists()


def test_it_requires_redirect_uris_for_authorization_code(staff_client):
    response = staff_client.post(
        URL,
        {**CC_BODY, "client_type": "public", "authorization_grant_type": "authorization-code"},
    )
    assert response.status_code == 400
    assert "redirect_uris" in response.json()["details"]
    assert not Application.objects.exists()


def test_it_changes_and_unbinds_an_application(staff_client, staff_user):
    account = AccountFactory()
    MembershipFactory(account=account, user=staff_user, role=Membership.Role.ADMIN)
    application, _ = make_application(user=staff_user, account_id=account.pk)

    response = staff_client.patch(f"{URL}{application.pk}/", {"name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed" and response.json()["account"] == account.pk

    response = staff_client.patch(f"{URL}{application.pk}/", {"account": None})
    assert response.status_code == 200
    assert response.json()["account"] is None
    assert not OAuthApplicationAccount.objects.exists()


def test_it_rotates_the_client_secret(staff_client, staff_user):
    application, old_secret = make_application(user=staff_user)

    response = staff_client.post(f"{URL}{application.pk}/rotate-secret/")

    assert response.status_code == 200
    new_secret = response.json()["client_secret"]
    assert new_secret != old_secret
    old = form_post(
        "/api/v1/oauth2/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(application.client_id, old_secret),
    )
    assert old.status_code == 401
    assert client_credentials_token(application, new_secret)


def test_it_deletes_an_application_and_its_tokens(staff_client, staff_user):
    application, secret = make_application(user=staff_user)
    client_credentials_token(application, secret)

    response = staff_client.delete(f"{URL}{application.pk}/")

    assert response.status_code == 204
    assert not Application.objects.exists() and not AccessToken.objects.exists()


def test_it_is_for_staff_only(auth_client, api_client, staff_user):
    application, secret = make_application(user=staff_user)
    assert auth_client.get(URL).status_code == 403
    assert auth_client.post(URL, CC_BODY).status_code == 403
    response = api_client.get(URL)
    assert response.status_code == 401 and response.has_header("WWW-Authenticate")
    # A staff user's own OAuth2 token cannot register clients either.
    token = client_credentials_token(application, secret)
    client = jwt_client(staff_user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post(URL, CC_BODY).status_code == 403
    assert Application.objects.count() == 1
