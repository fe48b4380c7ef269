"""Payments (Stripe): Checkout sessions and the signed webhook."""

import logging

import stripe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from users import services, stripe_client
from users.serializers.payments import (
    CheckoutSessionRequestSerializer,
    CheckoutSessionSerializer,
    StripeWebhookResultSerializer,
)
from users.views.common import ERROR_400, ERROR_401, ERROR_502, ERROR_503, PublicAuthView

logger = logging.getLogger(__name__)


class CheckoutSessionView(APIView):
    """Starts a Stripe Checkout for a credit pack or a configured price: {"id", "url"}."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["payments"],
        summary="Create a Stripe Checkout Session",
        description=(
            "Send `pack` (a credit pack of STRIPE_CREDIT_PACKS) or `price_id` (a pack's price or "
            "one of STRIPE_SUBSCRIPTION_PRICE_IDS), `quantity` (default 1), `success_url` and "
            "`cancel_url`. Redirect the user to `url`; credits arrive with Stripe's "
            "`checkout.session.completed` webhook."
        ),
        request=CheckoutSessionRequestSerializer,
        responses={
            200: CheckoutSessionSerializer,
            400: ERROR_400,
            401: ERROR_401,
            502: ERROR_502,
            503: ERROR_503,
        },
    )
    def post(self, request):
        serializer = CheckoutSessionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.payments_checkout_session_create(
            user=request.user, **serializer.validated_data
        )
        return Response(session)


class StripeWebhookView(PublicAuthView):
    """Stripe's event callback: the `Stripe-Signature` of the raw body is verified first."""

    # Stripe sends bursts from a few addresses; the signature, not a rate, keeps others out.
    throttle_classes: list = []

    @extend_schema(
        tags=["payments"],
        summary="Stripe webhook (signed by Stripe)",
        description=(
            "Verifies `Stripe-Signature` with STRIPE_WEBHOOK_SECRET (bad or missing → 400). "
            "`checkout.session.completed` grants the session's credits once per event; "
            "`customer.subscription.created|updated|deleted` update the user's subscription; "
            "other types are acknowledged and ignored."
        ),
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("Stripe-Signature", OpenApiTypes.STR, location=OpenApiParameter.HEADER)
        ],
        responses={200: StripeWebhookResultSerializer, 400: ERROR_400, 503: ERROR_503},
    )
    def post(self, request):
        payload = request.body  # the exact bytes Stripe signed
        try:
            event = stripe_client.construct_event(
                payload=payload, signature=request.headers.get("Stripe-Signature")
            )
        except stripe.SignatureVerificationError as exc:
            raise exceptions.ValidationError(
                {"Stripe-Signature": ["The signature is missing or does not match."]}
            ) from exc
        except ValueError as exc:
            raise exceptions.ValidationError({"body": ["The body is not a Stripe event."]}) from exc
        record = services.stripe_event_process(event=event)
        outcome = "duplicate" if record is None else record.outcome
        logger.info("Stripe event %s (%s): %s", event.get("id"), event.get("type"), outcome)
        return Response({"status": outcome})
