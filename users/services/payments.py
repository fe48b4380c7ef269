"""Payments (Stripe): Checkout sessions for credit packs and subscriptions, and signed webhook
events (credits granted once per event).
"""

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework import exceptions

from users import stripe_client
from users.models import StripeEvent, User
from users.services.credits import credits_grant

logger = logging.getLogger(__name__)


def _checkout_price(*, pack: str | None, price_id: str | None) -> tuple[str, str, int, str]:
    """(price id, mode, credits per unit, pack name) from the server's own configuration.

    The credits granted never come from the client: only configured packs carry credits.
    """
    packs = settings.STRIPE_CREDIT_PACKS
    if pack:
        config = packs.get(pack)
        if config is None:
            raise exceptions.ValidationError(
                {"pack": [f"Unknown credit pack. Available: {', '.join(sorted(packs)) or 'none'}."]}
            )
        return config["price_id"], "payment", config["credits"], pack
    for name, config in packs.items():
        if config["price_id"] == price_id:
            return config["price_id"], "payment", config["credits"], name
    if price_id is not None and price_id in settings.STRIPE_SUBSCRIPTION_PRICE_IDS:
        return price_id, "subscription", 0, ""
    raise exceptions.ValidationError({"price_id": ["Unknown price."]})


def _stripe_customer_id(*, user: User, gateway: stripe.StripeClient) -> str:
    if user.stripe_customer_id:
        return user.stripe_customer_id
    customer = stripe_client.call(
        "customer creation",
        gateway.v1.customers.create,
        params={"email": user.email, "metadata": {"user_id": str(user.pk)}},
        # Concurrent first checkouts of one user get the same customer back from Stripe.
        options={"idempotency_key": f"customer-for-user-{user.pk}"},
    )
    if not User.objects.filter(pk=user.pk, stripe_customer_id="").update(
        stripe_customer_id=customer.id
    ):
        user.refresh_from_db(fields=["stripe_customer_id"])
        return user.stripe_customer_id
    user.stripe_customer_id = customer.id
    return str(customer.id)


def payments_checkout_session_create(
    *,
    user: User,
    success_url: str,
    cancel_url: str,
    pack: str | None = None,
    price_id: str | None = None,
    quantity: int = 1,
) -> dict[str, Any]:
    """Creates a Stripe Checkout Session (and the Stripe customer if needed): {"id", "url"}.

    No database transaction is held across the Stripe calls. The credits to grant on payment go
    into the session's metadata, which the signed `checkout.session.completed` event returns.
    """
    gateway = stripe_client.client()  # 503 first: nothing to validate against without Stripe
    price, mode, credits_per_unit, pack_name = _checkout_price(pack=pack, price_id=price_id)
    metadata = {"user_id": str(user.pk)}
    if mode == "payment":
        metadata.update({"credits": str(credits_per_unit * quantity), "pack": pack_name})
    params = {
        "mode": mode,
        "customer": _stripe_customer_id(user=user, gateway=gateway),
        "client_reference_id": str(user.pk),
        "line_items": [{"price": price, "quantity": quantity}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
    }
    if mode == "subscription":
        params["subscription_data"] = {"metadata": {"user_id": str(user.pk)}}
    session = stripe_client.call(
        "checkout session creation", gateway.v1.checkout.sessions.create, params=params
    )
    return {"id": session.id, "url": session.url}


def _user_for_stripe_object(obj: dict[str, Any]) -> User | None:
    """The user a Stripe object belongs to: our metadata first, then the Stripe customer."""
    candidates = [(obj.get("metadata") or {}).get("user_id"), obj.get("client_reference_id")]
    for candidate in candidates:
        try:
            user_id = uuid.UUID(str(candidate)) if candidate else None
        except ValueError:
            continue
        user = User.objects.filter(pk=user_id).first() if user_id else None
        if user is not None:
            return user
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return User.objects.filter(stripe_customer_id=customer).first() if customer else None


def _stripe_checkout_completed(event: dict[str, Any]) -> tuple[str, str]:
    session = event["data"]["object"]
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        # Delayed payment methods: credits come with checkout.session.async_payment_succeeded.
        return StripeEvent.Outcome.IGNORED, "payment not completed yet"
    try:
        credits = int((session.get("metadata") or {}).get("credits") or 0)
    except (TypeError, ValueError):
        credits = 0
    if credits <= 0:
        return StripeEvent.Outcome.IGNORED, "no credits in the session metadata"
    user = _user_for_stripe_object(session)
    if user is None:
        logger.warning("Stripe checkout session %s has no known user.", session.get("id"))
        return StripeEvent.Outcome.IGNORED, "unknown user"
    if session.get("customer") and not user.stripe_customer_id:
        User.objects.filter(pk=user.pk, stripe_customer_id="").update(
            stripe_customer_id=session["customer"]
        )
    credits_grant(
        user=user,
        amount=credits,
        reason="Stripe checkout",
        # One grant per checkout session, even if Stripe sends it under several events.
        reference=f"stripe:checkout:{session['id']}",
    )
    return StripeEvent.Outcome.PROCESSED, f"granted {credits} credits to {user.pk}"


def _timestamp(value: int | str | None) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _stripe_subscription_changed(event: dict[str, Any]) -> tuple[str, str]:
    subscription = event["data"]["object"]
    user = _user_for_stripe_object(subscription)
    if user is None:
        return StripeEvent.Outcome.IGNORED, "unknown customer"
    items = (subscription.get("items") or {}).get("data") or [{}]
    first_item = items[0] or {}
    plan = (first_item.get("price") or {}).get("id") or (subscription.get("plan") or {}).get("id")
    period_end = subscription.get("current_period_end") or first_item.get("current_period_end")
    deleted = event["type"] == "customer.subscription.deleted"
    created = _timestamp(event.get("created")) or timezone.now()
    # Stripe does not guarantee delivery order: an event older than the one applied is stale.
    applied = (
        User.objects.filter(pk=user.pk)
        .filter(
            Q(subscription_event_created__isnull=True) | Q(subscription_event_created__lte=created)
        )
        .update(
            subscription_id=subscription.get("id") or "",
            subscription_status="canceled" if deleted else subscription.get("status") or "",
            subscription_plan=plan or "",
            subscription_current_period_end=_timestamp(period_end),
            subscription_event_created=created,
            updated_at=timezone.now(),
        )
    )
    if not applied:
        return StripeEvent.Outcome.IGNORED, "older than the subscription state already stored"
    return StripeEvent.Outcome.PROCESSED, f"subscription of {user.pk} updated"


STRIPE_EVENT_HANDLERS = {
    "checkout.session.completed": _stripe_checkout_completed,
    "checkout.session.async_payment_succeeded": _stripe_checkout_completed,
    "customer.subscription.created": _stripe_subscription_changed,
    "customer.subscription.updated": _stripe_subscription_changed,
    "customer.subscription.deleted": _stripe_subscription_changed,
}


@transaction.atomic
def stripe_event_process(*, event: dict[str, Any]) -> StripeEvent | None:
    """Handles a verified Stripe event exactly once; None if this event id was already handled.

    The StripeEvent row and the effect (credits, subscription) commit together: a crash in
    between leaves neither, and Stripe's retry does the work.
    """
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id:
        raise exceptions.ValidationError({"id": ["The event has no id."]})
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event_id,
                type=event_type[:255],
                livemode=bool(event.get("livemode")),
                outcome=StripeEvent.Outcome.IGNORED,
            )
    except IntegrityError:
        return None
    handler = STRIPE_EVENT_HANDLERS.get(event_type)
    if handler is None:
        record.detail = "event type not handled"
    else:
        record.outcome, detail = handler(event)
        record.detail = detail[:255]
    record.save(update_fields=["outcome", "detail"])
    return record
