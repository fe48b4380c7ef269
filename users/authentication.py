"""JWT authentication for DRF: simplejwt's checks plus the revocation denylist.

`Authorization: Bearer <jwt>` or `Authorization: Token <jwt>`. Bad signature, `alg: none`,
expiry, a refresh token used as an access token, and revoked tokens all answer 401 with one
plain message (no token internals) and a `WWW-Authenticate` header.
"""

import threading
from collections import OrderedDict

from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as SimpleJWTAuthFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from users import tokens
from users.selectors import token_is_revoked

TOKEN_INVALID = "Token is invalid or expired."


def credential_checks_deferred(request) -> bool:
    """True on a view that checks the credentials' state itself, in one cache round trip
    (`credential_checks_deferred = True`: the ingest view, destinations/ingest_auth.py)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    return bool(getattr(view, "credential_checks_deferred", False))


class VerifiedTokens:
    """Tokens this process has verified (signature, type, claims), by their exact text, so a
    client calling many times with one token pays for the verification once (PyJWT's decode was
    a sixth of a warm JWT ingest call's Python under cProfile). Only the outcome of a pure
    function is kept: expiry is checked again on every use, revocation and the user's state are
    checked as before (denylist, cache, database), and a change of the signing settings empties
    it. Bounded (least recently used goes first); thread-safe for gthread workers."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._tokens: OrderedDict[bytes, Token] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, raw_token: bytes) -> Token | None:
        with self._lock:
            token = self._tokens.get(raw_token)
            if token is not None:
                self._tokens.move_to_end(raw_token)
        if token is None:
            return None
        try:
            token.check_exp(current_time=aware_utcnow())  # the token's own clock is its birth
        except TokenError as exc:
            self.forget(raw_token)
            raise InvalidToken(TOKEN_INVALID) from exc
        return token

    def put(self, raw_token: bytes, token: Token) -> None:
        with self._lock:
            self._tokens[raw_token] = token
            while len(self._tokens) > self.size:
                self._tokens.popitem(last=False)

    def forget(self, raw_token: bytes) -> None:
        with self._lock:
            self._tokens.pop(raw_token, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


verified_tokens = VerifiedTokens()


@receiver(setting_changed)
def _forget_verified_tokens(*, setting: str, **kwargs) -> None:
    if setting in ("SIMPLE_JWT", "SECRET_KEY"):
        verified_tokens.clear()


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

    def verified_token(self, raw_token):
        """simplejwt's signature, expiry and type checks, remembered per token text."""
        token = verified_tokens.get(raw_token)
        if token is None:
            token = SimpleJWTAuthentication.get_validated_token(self, raw_token)
            verified_tokens.put(raw_token, token)
        return token

    def get_validated_token(self, raw_token):
        validated = self.verified_token(raw_token)
        if token_is_revoked(payload=validated.payload):
            raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")
        return validated

    def _authenticate_unchecked(self, request):
        """Signature, expiry and type only: no denylist round trip, no user query."""
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        validated = self.verified_token(raw_token)
        if tokens.user_id_of(validated.payload) is None:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID, code="token_not_valid")
        return UncheckedTokenUser(validated), validated
