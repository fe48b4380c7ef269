"""JWT authentication for DRF: simplejwt's checks plus the revocation denylist.

`Authorization: Bearer <jwt>` or `Authorization: Token <jwt>`. Bad signature, `alg: none`,
expiry, a refresh token used as an access token, and revoked tokens all answer 401 with one
plain message (no token internals) and a `WWW-Authenticate` header.
"""

from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as SimpleJWTAuthFailed
from rest_framework_simplejwt.exceptions import InvalidToken

from users.selectors import token_is_revoked

TOKEN_INVALID = "Token is invalid or expired."


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's authentication that also refuses revoked tokens (one cache round-trip)."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
        except SimpleJWTAuthFailed as exc:
            detail = exc.detail.get("detail") if isinstance(exc.detail, dict) else exc.detail
            raise exceptions.AuthenticationFailed(str(detail or TOKEN_INVALID)) from exc

    def get_validated_token(self, raw_token):
        validated = super().get_validated_token(raw_token)
        if token_is_revoked(payload=validated.payload):
            raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")
        return validated
