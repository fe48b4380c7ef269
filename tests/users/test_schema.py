"""The OpenAPI schema documents the identity routes; the seeds' routes are tagged `compat`."""

import pytest

pytestmark = pytest.mark.django_db

COMPAT = [
    ("/api/access/users/", "post"),
    ("/api/access/users/me/", "get"),
    ("/api/access/users/me/", "patch"),
    ("/api/access/auth/login/", "post"),
    ("/api/access/auth/refresh/", "post"),
    ("/users/register/", "post"),
    ("/users/logout/", "post"),
    ("/api/v1/user/create", "post"),
    ("/api/v1/user/login", "post"),
    ("/api/v1/user/refresh", "post"),
    ("/api/v1/user/logout", "post"),
    ("/api/v1/users", "get"),
    ("/api/account/create/", "post"),
    ("/api/login/", "post"),
]
CANONICAL = [
    ("/api/v1/auth/register/", "post"),
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/auth/token/refresh/", "post"),
    ("/api/v1/auth/token/verify/", "post"),
    ("/api/v1/auth/logout/", "post"),
    ("/api/v1/users/me/", "get"),
    ("/api/v1/users/me/", "patch"),
    ("/api/v1/users/", "get"),
    ("/api/v1/users/{id}/", "get"),
]


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_it_tags_every_seed_route_compat(schema):
    for path, method in COMPAT:
        assert schema["paths"][path][method]["tags"] == ["compat"], path


def test_it_documents_the_canonical_routes_without_compat(schema):
    for path, method in CANONICAL:
        assert "compat" not in schema["paths"][path][method]["tags"], path
    login = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert set(login["responses"]) == {"200", "400", "401", "429"}
    assert "jwtAuth" in schema["components"]["securitySchemes"]
