"""drf-spectacular extension: documents the denylist-checking JWT authentication as bearer JWT."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <jwt>` (`Token <jwt>` is accepted too)."""

    target_class = "users.authentication.JWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        definition = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix="Bearer", bearer_format="JWT"
        )
        definition["description"] = "A JWT access token; `Authorization: Token <jwt>` works too."
        return definition
