"""API-key authentication for DRF: `X-API-Key: <key>` or `Authorization: Api-Key <key>`."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from endpoints.models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates a request by API key; `request.auth` is then the `ApiKey`."""

    keyword = "Api-Key"
    header = "X-API-Key"

    def authenticate(self, request):
        raw = self._raw_key(request)
        if raw is None:
            return None
        key = ApiKey.objects.for_key(raw)
        # Messages never repeat the key: it may be a real secret sent to the wrong place.
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not key.is_active:
            raise exceptions.AuthenticationFailed("This API key is inactive.")
        if key.is_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not key.user.is_active:
            raise exceptions.AuthenticationFailed("The owner of this API key is inactive.")
        # Imported here: DRF loads this class while rest_framework.views is still importing,
        # and the services module imports code that needs rest_framework.views.
        from endpoints.services import api_key_touch

        api_key_touch(api_key=key)
        return (key.user, key)

    def _raw_key(self, request) -> str | None:
        value = request.META.get("HTTP_X_API_KEY")
        if value is not None:
            value = value.strip()
            if not value:
                raise exceptions.AuthenticationFailed("Empty X-API-Key header.")
            return value
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Api-Key header: expected `Authorization: Api-Key <key>`."
            )
        try:
            return parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
