"""drf-spectacular extensions: documents the API-key security scheme (header X-API-Key)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """`X-API-Key: <key>` (also accepted: `Authorization: Api-Key <key>`)."""

    target_class = "endpoints.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key; `Authorization: Api-Key <key>` works too.",
        }
