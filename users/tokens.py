"""JWT minting and decoding on top of simplejwt: the login family claim and a precise issue time.

Every token minted at login carries `fam` (one id per login, kept on rotation, copied into access
tokens) so reuse detection, logout and device revocation can cut a whole login at once, and
`iat_ms` (issue time in milliseconds) so "revoke everything issued before now" does not also hit
a token issued in the same second just after. Tokens minted elsewhere (`RefreshToken.for_user`)
lack both and still work: their family is their own jti, their issue time the whole-second `iat`.
"""

import time
import uuid
from datetime import UTC, datetime

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

FAMILY_CLAIM = "fam"
ISSUED_MS_CLAIM = "iat_ms"


def new_family_id() -> str:
    return uuid.uuid4().hex


def now_ms() -> int:
    return int(time.time() * 1000)


def mint_pair(*, user_id, family: str) -> tuple[RefreshToken, AccessToken]:
    """A new refresh token of `family` and its access token."""
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user_id)
    refresh[FAMILY_CLAIM] = family
    issued = now_ms()
    refresh[ISSUED_MS_CLAIM] = issued
    access = refresh.access_token  # copies user_id, fam and iat_ms
    access[ISSUED_MS_CLAIM] = issued
    return refresh, access


def token_type(payload: dict) -> str | None:
    return payload.get(api_settings.TOKEN_TYPE_CLAIM)


def user_id_of(payload: dict) -> str | None:
    value = payload.get(api_settings.USER_ID_CLAIM)
    return str(value) if value is not None else None


def family_of(payload: dict) -> str | None:
    """The login family: the `fam` claim, or for a refresh token minted without one, its jti."""
    family = payload.get(FAMILY_CLAIM)
    if family:
        return str(family)
    if token_type(payload) == RefreshToken.token_type:
        return str(payload.get(api_settings.JTI_CLAIM))
    return None


def issued_ms(payload: dict) -> int:
    """Issue time in ms; whole-second `iat` rounds down, so a cut-off never misses an older token."""
    value = payload.get(ISSUED_MS_CLAIM)
    if isinstance(value, int):
        return value
    return int(payload.get("iat", 0)) * 1000


def expires_at(payload: dict) -> datetime:
    return datetime.fromtimestamp(int(payload["exp"]), tz=UTC)


def jti_of(payload: dict) -> str:
    return str(payload[api_settings.JTI_CLAIM])
