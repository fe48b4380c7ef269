"""Permissions of this app: API-key scopes, and keeping key management to logged-in users."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from endpoints.models import ApiKey


class ApiKeyScopePermission(BasePermission):
    """With an API key: "read" for safe methods, "write" for the others, unless the view
    declares `required_api_key_scope`. Requests not made with an API key pass through."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        required = getattr(view, "required_api_key_scope", None) or (
            ApiKey.Scope.READ if request.method in SAFE_METHODS else ApiKey.Scope.WRITE
        )
        self.message = f'This API key lacks the "{required}" scope.'
        return request.auth.has_scope(str(required))


class IsNotApiKey(BasePermission):
    """Refuses API-key requests: a key must not mint, rotate or widen keys (privilege escalation)."""

    message = "API keys cannot manage API keys: authenticate as the user (JWT) instead."

    def has_permission(self, request, view) -> bool:
        return not isinstance(request.auth, ApiKey)
