"""Errors of the identity app that need their own status code."""

from rest_framework import exceptions, status


class LoginLockedOut(exceptions.APIException):
    """429: too many failed logins for this account or client IP; `wait` becomes Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed login attempts."
    default_code = "login_locked_out"

    def __init__(self, wait: int):
        self.wait = max(1, int(wait))
        super().__init__(
            detail=f"Too many failed login attempts. Try again in {self.wait} seconds."
        )


class RevocationUnavailable(exceptions.APIException):
    """503: the token denylist could not be written, so nothing was revoked."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Token revocation is temporarily unavailable. Please try again."
    default_code = "revocation_unavailable"
