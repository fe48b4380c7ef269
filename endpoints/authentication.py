"""API-key authentication for DRF."""

from rest_framework.authentication import BaseAuthentication


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates `X-API-Key` / `Authorization: Api-Key` requests."""

    def authenticate(self, request):
        return None
