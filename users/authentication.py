"""JWT authentication for DRF: simplejwt's checks plus the revocation denylist.

`Authorization: Bearer <jwt>` or `Authorization: Token <jwt>`. Bad signature, `alg: none`,
expiry, a refresh token used as an access token, and revoked tokens all answer 401 with one
plain message (no token internals) and a `WWW-Authenticate` header.
"""

from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as SimpleJWTAuthFailed
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.models import TokenUser

from users import tokens
from users.selectors import token_is_revoked

TOKEN_INVALID = "Token is invalid or expired."


def credential_checks_deferred(request) -> bool:
    """True on a view that checks the credentials' state itself, in one cache round trip
    (`credential_checks_deferred = True`: the ingest view, destinations/ingest_auth.py)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    return bool(getattr(view, "credential_checks_deferred", False))


class UncheckedTokenUser(TokenUser):
    """The user named by a verified JWT whose revocation and active flag are still to be checked
    by the view (see `credential_checks_deferred`); never a user anywhere else."""


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's authentication that also refuses revoked tokens (one cache round-trip)."""

    def authenticate(self, request):
        try:
            if credential_checks_deferred(request):
                return self._authenticate_unchecked(request)
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

    def _authenticate_unchecked(self, request):
        """Signature, expiry and type only: no denylist round trip, no user query."""
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        validated = SimpleJWTAuthentication.get_validated_token(self, raw_token)
        if tokens.user_id_of(validated.payload) is None:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid")
        return UncheckedTokenUser(validated), validated
