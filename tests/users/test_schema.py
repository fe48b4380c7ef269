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
    ("/api/access/logged-devices/", "get"),
    ("/api/access/logged-devices/{id}/", "delete"),
    ("/api/access/reset-password-control/", "post"),
    ("/api/access/email-confirmation-control/", "post"),
    ("/api/access/email-confirmation-control/resend/", "post"),
    ("/api/access/pre-register/", "post"),
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
    ("/api/v1/auth/email/confirm/", "post"),
    ("/api/v1/auth/email/resend/", "post"),
    ("/api/v1/auth/password/reset/", "post"),
    ("/api/v1/auth/password/reset/confirm/", "post"),
    ("/api/v1/auth/password/change/", "post"),
    ("/api/v1/users/me/devices/", "get"),
    ("/api/v1/users/me/devices/{id}/", "delete"),
    ("/api/v1/users/me/credits/", "get"),
    ("/api/v1/users/me/credits/spend/", "post"),
    ("/api/v1/pre-register/", "post"),
    ("/api/v1/payments/checkout-session/", "post"),
    ("/api/v1/payments/stripe/webhook/", "post"),
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
    assert set(login["responses"]) == {"200", "400", "401", "413", "429"}
    assert "jwtAuth" in schema["components"]["securitySchemes"]


def test_it_documents_the_avatar_upload_and_the_lifecycle_shapes(schema):
    patch = schema["paths"]["/api/v1/users/me/"]["patch"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(patch)
    spend = schema["paths"]["/api/v1/users/me/credits/spend/"]["post"]
    assert {"200", "400", "401", "402"} <= set(spend["responses"])
    control = schema["paths"]["/api/access/reset-password-control/"]["post"]
    assert "Two shapes on one route" in control["description"]
