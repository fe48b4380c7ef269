"""Errors of the identity app that need their own status code."""

from rest_framework import exceptions, status

from backend.common.exceptions import retry_after_seconds


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

    def __init__(self, detail: str | None = None, code: str | None = None) -> None:
        super().__init__(detail, code)
        # DRF's handler turns `wait` into Retry-After, like every other 503 of the API.
        self.wait = retry_after_seconds()


class InsufficientCredits(exceptions.APIException):
    """402: the balance is lower than the amount to spend; nothing was debited."""

    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_detail = "Insufficient credits."
    default_code = "insufficient_credits"

    def __init__(self, *, balance: int, amount: int):
        super().__init__(
            detail={
                "detail": f"Insufficient credits: {amount} needed, {balance} available.",
                "amount": [f"Exceeds your balance of {balance} credits."],
            }
        )


class PaymentsUnavailable(exceptions.APIException):
    """503: Stripe is not configured on this server."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Payments are not configured on this server."
    default_code = "payments_unavailable"


class PaymentProviderError(exceptions.APIException):
    """502: Stripe refused or could not be reached (no provider internals in the body)."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The payment provider could not process the request. Please try again."
    default_code = "payment_provider_error"
