"""DRF authentication of this app: API keys (`X-API-Key: <key>` or `Authorization: Api-Key <key>`)
and OAuth2 access tokens issued by django-oauth-toolkit (`Authorization: Bearer <token>`)."""

import time

from django.conf import settings
from oauth2_provider.contrib.rest_framework import OAuth2Authentication as DotOAuth2Authentication
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from backend.common import fact_cache
from endpoints.api_key_cache import ApiKeySnapshot, snapshot_given, snapshot_key_for_raw
from endpoints.models import ApiKey, OAuthApplicationAccount
from endpoints.permissions import credential_scope_check
from users.authentication import credential_checks_deferred


class KeyOwner:
    """The owner of an API key as far as a view that defers credential checks needs it (no
    user query): id, active, and the account the key is bound to."""

    is_active = True
    is_authenticated = True
    is_anonymous = False

    def __init__(self, snapshot: ApiKeySnapshot):
        self.id = self.pk = snapshot.user_id
        self.credential_account_id = snapshot.account_id

    def __str__(self) -> str:
        return f"KeyOwner {self.id}"


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates a request by API key; `request.auth` is then the `ApiKey`."""

    keyword = "Api-Key"
    header = "X-API-Key"
    # key id -> monotonic time until which this process knows the key's last use is recorded
    _touched_until: dict[str, float] = {}

    def authenticate(self, request):
        raw = self._raw_key(request)
        if raw is None:
            return None
        if credential_checks_deferred(request):
            return self._authenticate_from_snapshot(request, raw)
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

        credential_scope_check(request, key)
        api_key_touch(api_key=key)
        key.user.credential_account_id = key.account_id
        return (key.user, key)

    def _authenticate_from_snapshot(self, request, raw: str):
        """The same checks from a cached snapshot of the key (one round trip, see
        endpoints/api_key_cache.py). `request.auth` is an unsaved `ApiKey` carrying the snapshot
        and `owner_is_member`; the user is a `KeyOwner`."""
        snapshot = None
        if len(raw) <= 200:
            snapshot = snapshot_given(raw, fact_cache.get_many([snapshot_key_for_raw(raw)]))
        if snapshot is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        key = snapshot.api_key()
        if not key.is_active:
            raise exceptions.AuthenticationFailed("This API key is inactive.")
        if key.is_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not snapshot.user_is_active:
            raise exceptions.AuthenticationFailed("The owner of this API key is inactive.")
        credential_scope_check(request, key)
        self._touch(key)
        key.owner_is_member = snapshot.owner_is_member  # type: ignore[attr-defined]  # read by the ingest permission
        return KeyOwner(snapshot), key

    def _touch(self, key: ApiKey) -> None:
        # The snapshot's last use is as old as the snapshot: remember here what was recorded.
        from endpoints.services import api_key_touch

        now = time.monotonic()
        if self._touched_until.get(str(key.pk), 0.0) > now:
            return
        api_key_touch(api_key=key)
        self._touched_until[str(key.pk)] = now + settings.API_KEY_LAST_USED_INTERVAL_SECONDS

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


class OAuth2Authentication(DotOAuth2Authentication):
    """django-oauth-toolkit access tokens (`Authorization: Bearer <token>`); `request.auth` is
    then the `AccessToken`.

    Only opaque bearer tokens (no dots, unlike a JWT) are looked up; a token this class does not
    know is left to the next class, so the JWT class answers the usual 401. A client-credentials
    token has no user of its own: it acts as the application's owner (`Application.user`).
    """

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer" or b"." in parts[1]:
            return None
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if user is None:
            application = token.application
            user = application.user if application is not None else None
            if user is not None:
                # An application bound to an account acts for that account only, like an
                # account API key (see accounts.selectors.memberships_of).
                user.credential_account_id = (
                    OAuthApplicationAccount.objects.filter(application_id=application.pk)
                    .values_list("account_id", flat=True)
                    .first()
                )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("The owner of this OAuth2 token is inactive.")
        credential_scope_check(request, token)
        return user, token

    def authenticate_header(self, request) -> str:
        # The same challenge as the JWT class: an unknown bearer is refused the same way whichever
        # kind of token it was meant to be.
        return f'Bearer realm="{self.www_authenticate_realm}"'
