"""drf-spectacular extensions: the API-key (header X-API-Key) and OAuth2 security schemes."""

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.permissions import SAFE_METHODS


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


class OAuth2AuthenticationScheme(DjangoOAuthToolkitScheme):
    """django-oauth-toolkit's scheme (flows and scopes from SPECTACULAR_SETTINGS) for our
    subclass of its authentication class."""

    target_class = "endpoints.authentication.OAuth2Authentication"
    name = "oauth2"

    def get_security_requirement(self, auto_schema):
        from endpoints.permissions import ApiKeyScopePermission, IsNotApiKey

        permissions = auto_schema.view.get_permissions()
        if any(isinstance(permission, IsNotApiKey) for permission in permissions):
            return None  # OAuth2 tokens are refused here
        if not any(isinstance(permission, ApiKeyScopePermission) for permission in permissions):
            return {self.name: []}
        declared = getattr(auto_schema.view, "required_api_key_scope", None)
        if declared:
            return {self.name: [str(declared)]}
        return {self.name: ["read" if auto_schema.method in SAFE_METHODS else "write"]}
