"""Permissions of this app: credential scopes (API keys and OAuth2 tokens), and keeping
credential management to users who logged in themselves."""

from oauth2_provider.models import AbstractAccessToken
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from endpoints.models import ApiKey


def required_scope(request, view) -> str:
    """The scope a delegated credential needs here: the view's `required_api_key_scope`, else
    "read" for safe methods and "write" for the others."""
    declared = getattr(view, "required_api_key_scope", None)
    if declared:
        return str(declared)
    return ApiKey.Scope.READ.value if request.method in SAFE_METHODS else ApiKey.Scope.WRITE.value


def credential_scope_check(request, credential) -> None:
    """Raises 403 when an API key or OAuth2 token lacks the scope this request needs.

    Called by the authentication classes themselves, so every view is covered, including views
    that set their own `permission_classes` (which replace ApiKeyScopePermission).
    """
    view = (getattr(request, "parser_context", None) or {}).get("view")
    required = required_scope(request, view)
    if isinstance(credential, ApiKey) and not credential.has_scope(required):
        raise exceptions.PermissionDenied(f'This API key lacks the "{required}" scope.')
    if isinstance(credential, AbstractAccessToken) and not credential.allow_scopes([required]):
        raise exceptions.PermissionDenied(f'This OAuth2 token lacks the "{required}" scope.')


class ApiKeyScopePermission(BasePermission):
    """With an API key or an OAuth2 access token: "read" for safe methods, "write" for the
    others, unless the view declares `required_api_key_scope`. Other requests pass through."""

    def has_permission(self, request, view) -> bool:
        credential = request.auth
        if isinstance(credential, ApiKey):
            required = required_scope(request, view)
            self.message = f'This API key lacks the "{required}" scope.'
            return credential.has_scope(required)
        if isinstance(credential, AbstractAccessToken):
            required = required_scope(request, view)
            self.message = f'This OAuth2 token lacks the "{required}" scope.'
            return credential.allow_scopes([required])
        return True


class IsNotApiKey(BasePermission):
    """Refuses API keys and OAuth2 tokens: a delegated credential must not mint, rotate or widen
    credentials (privilege escalation; a minted key would also outlive the token's revocation)."""

    message = "API keys cannot manage API keys: authenticate as the user (JWT) instead."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, AbstractAccessToken):
            self.message = (
                "OAuth2 tokens cannot manage credentials: authenticate as the user (JWT) instead."
            )
            return False
        return not isinstance(request.auth, ApiKey)
