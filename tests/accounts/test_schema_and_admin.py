"""The OpenAPI schema documents the accounts routes (compat ones tagged), and the admin pages work."""

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

COMPAT_PATHS = [
    "/users/login/",
    "/users/invite/",
    "/users/",
    "/users/{id}/",
    "/accounts/",
    "/accounts/{id}/",
    "/accounts/{account_pk}/members/",
]
CANONICAL_PATHS = [
    "/api/v1/accounts/",
    "/api/v1/accounts/{id}/",
    "/api/v1/accounts/{id}/rotate-secret/",
    "/api/v1/accounts/{account_pk}/members/",
    "/api/v1/accounts/{account_pk}/members/{id}/",
    "/api/v1/users/invite/",
    "/api/v1/invitations/accept/",
]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_it_tags_compat_routes_compat(schema):
    for path in COMPAT_PATHS:
        for method, operation in schema["paths"][path].items():
            assert operation["tags"] == ["compat"], (path, method)
            assert operation["operationId"].startswith("compat_")


def test_it_documents_canonical_routes(schema):
    for path in CANONICAL_PATHS:
        for method, operation in schema["paths"][path].items():
            assert operation["tags"] == ["accounts"], (path, method)
    create = schema["paths"]["/api/v1/accounts/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/AccountInputRequest"
    )


def test_it_serves_the_admin_pages():
    staff = UserFactory(is_staff=True, is_superuser=True)
    membership = MembershipFactory(role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(staff)
    for url in (
        "/admin/accounts/account/",
        f"/admin/accounts/account/?q={membership.account.name}",
        f"/admin/accounts/account/{membership.account_id}/change/",
        "/admin/accounts/membership/",
        f"/admin/accounts/membership/?q={membership.user.email}&role__exact=1",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/admin/accounts/account/{membership.account_id}/change/").content.decode()
    assert str(membership.account.app_secret_token) in page
    assert 'name="app_secret_token"' not in page
