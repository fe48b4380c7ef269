"""The Stripe integration: one configured `StripeClient`, webhook signature checks.

`STRIPE_SECRET_KEY` enables it; `STRIPE_API_BASE` points the client at another API base (tests
use a local stand-in server). Stripe errors become a 502 with no provider internals.
"""

import logging
from typing import TYPE_CHECKING

import stripe
from django.conf import settings

from users.exceptions import PaymentProviderError, PaymentsUnavailable

if TYPE_CHECKING:
    from stripe._base_address import BaseAddresses  # the client's own TypedDict

logger = logging.getLogger(__name__)


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    """A client for the configured key and API base (503 when Stripe is not configured)."""
    if not is_configured():
        raise PaymentsUnavailable()
    base_addresses: BaseAddresses | None = (
        {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    )
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base_addresses,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def call(operation: str, function, *args, **kwargs):
    """Runs one Stripe API call; StripeError → 502 (logged without the key or the payload)."""
    try:
        return function(*args, **kwargs)
    except stripe.StripeError as exc:
        logger.warning(
            "Stripe %s failed: %s (HTTP %s, code %s)",
            operation,
            type(exc).__name__,
            getattr(exc, "http_status", None),
            getattr(exc, "code", None),
        )
        raise PaymentProviderError() from exc


def construct_event(*, payload: bytes, signature: str | None) -> dict:
    """The verified event of a webhook call as a plain dict.

    Raises PaymentsUnavailable (no webhook secret), ValueError (not JSON) or
    stripe.SignatureVerificationError (missing, forged or stale signature).
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise PaymentsUnavailable("Stripe webhooks are not configured on this server.")
    event = stripe.Webhook.construct_event(payload, signature, secret)
    return event.to_dict()
