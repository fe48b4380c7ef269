"""Thin views of the identity app: validate with one serializer, call a service, render another.

The compat views (users/compat_views.py) subclass these and only change the shapes.
"""

import logging

import stripe
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import Token

from backend.common.pagination import PageNumberPagination
from backend.common.throttling import ScopedRateThrottle
from users import payments, selectors, services, tokens
from users.models import Device, DeviceLogin
from users.serializers import (
    CheckoutSessionRequestSerializer,
    CheckoutSessionSerializer,
    CreditHistorySerializer,
    CreditSpendSerializer,
    CreditSpentSerializer,
    CreditTransactionSerializer,
    DeviceSerializer,
    EmailConfirmedSerializer,
    EmailTokenSerializer,
    EmptySerializer,
    IdentityErrorSerializer,
    LoginSerializer,
    LogoutSerializer,
    MessageSerializer,
    PasswordChangedSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    PreRegisteredSerializer,
    PreRegisterSerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    RegisterSerializer,
    StaffUserSerializer,
    StripeWebhookResultSerializer,
    TokenPairSerializer,
    UserSerializer,
    VerifySerializer,
)

logger = logging.getLogger(__name__)

User = get_user_model()

AUTH_HEADER = 'Bearer realm="api"'


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=IdentityErrorSerializer, description=description)


ERROR_400 = _error("Invalid input (the details name each field).")
ERROR_401 = _error("Authentication credentials were not provided or are invalid.")
ERROR_403 = _error("You do not have permission to perform this action.")
ERROR_429 = _error("Too many failed login attempts (Retry-After says when to try again).")
ERROR_402 = _error("Insufficient credits (nothing was debited).")
ERROR_404 = _error("Not found (or not yours).")
ERROR_409 = _error("The reference was already used with a different amount.")
ERROR_THROTTLED = _error("Too many requests (Retry-After says when to try again).")
ERROR_502 = _error("The payment provider failed.")
ERROR_503 = _error("Payments are not configured on this server.")


class PublicAuthView(APIView):
    """An endpoint that takes credentials in its body: a stale Authorization header is ignored.

    401s still carry `WWW-Authenticate` (DRF would otherwise turn them into 403).
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get_authenticate_header(self, request):
        return AUTH_HEADER


class RegisterView(PublicAuthView):
    """Creates a user; returns the profile (201, no tokens: log in next)."""

    input_serializer = RegisterSerializer
    output_serializer = UserSerializer

    @extend_schema(
        tags=["auth"],
        summary="Register a user",
        description=(
            "Creates a user (password checked by the password validators; email and username "
            "unique in any case) and returns the profile. No tokens: log in with "
            "`POST /api/v1/auth/token/` next."
        ),
        request=RegisterSerializer,
        responses={201: UserSerializer, 400: ERROR_400},
    )
    def post(self, request):
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(request=request, **serializer.validated_data)
        return Response(self.render(user), status=status.HTTP_201_CREATED)

    def render(self, user) -> dict:
        return self.output_serializer(user).data


class LoginView(PublicAuthView):
    """Email or username + password → a new token pair."""

    throttle_classes = [*APIView.throttle_classes, ScopedRateThrottle]
    throttle_scope = "login"
    input_serializer = LoginSerializer

    @extend_schema(
        tags=["auth"],
        summary="Obtain a JWT pair (username or email + password)",
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 400: ERROR_400, 401: ERROR_401, 429: ERROR_429},
    )
    def post(self, request):
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_authenticate(
            identifier=serializer.validated_data["identifier"],
            password=serializer.validated_data["password"],
            request=request,
        )
        pair = services.token_pair_for_user(user=user, request=request)
        return Response(self.render(user, pair))

    def render(self, user, pair: dict) -> dict:
        return pair


class RefreshView(PublicAuthView):
    """Rotates a refresh token; reusing a spent one revokes its whole login (401)."""

    @extend_schema(
        tags=["auth"],
        summary="Rotate a refresh token into a new pair",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, 400: ERROR_400, 401: ERROR_401},
    )
    def post(self, request):
        pair = services.token_refresh(refresh=self.refresh_token(request))
        return Response(self.render(pair))

    def refresh_token(self, request) -> str:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["refresh"]

    def render(self, pair: dict) -> dict:
        return pair


class VerifyView(PublicAuthView):
    """200 `{}` if the token is valid and not revoked, else 401."""

    @extend_schema(
        tags=["auth"],
        summary="Verify a token (signature, expiry, revocation)",
        request=VerifySerializer,
        responses={200: EmptySerializer, 400: ERROR_400, 401: ERROR_401},
    )
    def post(self, request):
        serializer = VerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        selectors.token_verify(token=serializer.validated_data["token"])
        return Response({})


class LogoutView(APIView):
    """Revokes the caller's access token, the given refresh token and their login family."""

    permission_classes = [permissions.IsAuthenticated]
    refresh_field = "refresh"

    @extend_schema(
        tags=["auth"],
        summary="Log out (revoke the access token, the refresh token and their login)",
        request=LogoutSerializer,
        responses={200: MessageSerializer, 400: ERROR_400, 401: ERROR_401},
    )
    def post(self, request):
        refresh = self.refresh_token(request)
        try:
            services.user_logout(access=self.access_token(request), refresh=refresh)
        except exceptions.ValidationError as exc:
            # Name the field the way this route's clients sent it.
            if isinstance(exc.detail, dict) and "refresh" in exc.detail:
                exc.detail[self.refresh_field] = exc.detail.pop("refresh")
            raise
        return Response({"message": "Logout successful"})

    @staticmethod
    def access_token(request) -> str | None:
        # JWT callers: request.auth is the validated token; API-key or OAuth callers have none.
        if not isinstance(request.auth, Token):
            return None
        raw = request.auth.token
        if isinstance(raw, bytes):
            raw = raw.decode()
        return raw if isinstance(raw, str) else None

    def refresh_token(self, request) -> str | None:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data.get("refresh")


class MeView(APIView):
    """The caller's profile: GET, and PATCH of the editable fields (JSON or multipart)."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=["users"], summary="Your profile", responses={200: UserSerializer, 401: ERROR_401}
    )
    def get(self, request):
        return Response(UserSerializer(request.user, context={"request": request}).data)

    @extend_schema(
        tags=["users"],
        summary="Update your profile",
        description=(
            "JSON, or `multipart/form-data` to upload an `avatar` (PNG, JPEG, GIF or WebP, at "
            "most AVATAR_MAX_BYTES; the bytes are checked, not the declared type). "
            "`avatar: null` removes it. Invalid values → 400 naming the field, nothing changed."
        ),
        request={
            "application/json": ProfileUpdateSerializer,
            "multipart/form-data": ProfileUpdateSerializer,
        },
        responses={200: UserSerializer, 400: ERROR_400, 401: ERROR_401},
    )
    def patch(self, request):
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user, context={"request": request}).data)


USER_LIST_PARAMETERS = [
    OpenApiParameter("email", OpenApiTypes.STR, description="Exact email (any case)."),
    OpenApiParameter("search", OpenApiTypes.STR, description="In email, username or names."),
]


@extend_schema(tags=["users"])
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every user, for staff only (403 for others, 401 without credentials)."""

    serializer_class = StaffUserSerializer
    permission_classes = [permissions.IsAdminUser]
    filter_backends: list = []
    # UUIDs only, so `users/me/` and the accounts app's `users/invite/` never reach this view.
    lookup_value_regex = "[0-9a-f-]{36}"

    def get_queryset(self):
        return selectors.user_list(
            email=self.request.query_params.get("email"),
            search=self.request.query_params.get("search"),
        )

    @extend_schema(
        summary="List users (staff)",
        parameters=USER_LIST_PARAMETERS,
        responses={200: StaffUserSerializer(many=True), 401: ERROR_401, 403: ERROR_403},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A user (staff)",
        responses={200: StaffUserSerializer, 401: ERROR_401, 403: ERROR_403},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


# --- Account lifecycle: email confirmation, password reset and change ------------------------------


# The default throttles plus the view's own `throttle_scope` rate.
SCOPED_THROTTLES = [*APIView.throttle_classes, ScopedRateThrottle]


EMAIL_CONFIRMED = {"message": "Your email address is confirmed.", "email_confirmed": True}
RESEND_SENT = {"message": "A new confirmation email is on its way."}
# The same answer whether or not the address is registered (no user enumeration).
RESET_REQUESTED = {
    "message": "If an account uses this email address, a password reset link is on its way."
}
RESET_DONE = {"message": "Your password has been reset. Log in with the new password."}


class EmailConfirmView(PublicAuthView):
    """Confirms the email address with the token from the confirmation email (works once)."""

    @extend_schema(
        tags=["auth"],
        summary="Confirm your email address",
        request=EmailTokenSerializer,
        responses={200: EmailConfirmedSerializer, 400: ERROR_400},
    )
    def post(self, request):
        serializer = EmailTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_confirm(token=serializer.validated_data["token"])
        return Response(EMAIL_CONFIRMED)


class EmailResendView(APIView):
    """Mails a new confirmation link to the caller (older links stop working)."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = SCOPED_THROTTLES
    throttle_scope = "email_resend"

    @extend_schema(
        tags=["auth"],
        summary="Resend the confirmation email",
        request=None,
        responses={200: MessageSerializer, 400: ERROR_400, 401: ERROR_401, 429: ERROR_THROTTLED},
    )
    def post(self, request):
        services.email_confirmation_resend(user=request.user)
        return Response(RESEND_SENT)


class PasswordResetRequestView(PublicAuthView):
    """Mails a reset link if the address is registered; the answer is the same either way."""

    throttle_classes = SCOPED_THROTTLES
    throttle_scope = "password_reset"

    @extend_schema(
        tags=["auth"],
        summary="Ask for a password reset link",
        request=PasswordResetRequestSerializer,
        responses={200: MessageSerializer, 400: ERROR_400, 429: ERROR_THROTTLED},
    )
    def post(self, request):
        serializer = PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"], request=request)
        return Response(RESET_REQUESTED)


class PasswordResetConfirmView(PublicAuthView):
    """Sets a new password with the token from the reset email; every session is logged out."""

    throttle_classes = SCOPED_THROTTLES
    throttle_scope = "password_reset"

    @extend_schema(
        tags=["auth"],
        summary="Set a new password with a reset token",
        request=PasswordResetConfirmSerializer,
        responses={200: MessageSerializer, 400: ERROR_400, 429: ERROR_THROTTLED},
    )
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(RESET_DONE)


class PasswordChangeView(APIView):
    """Changes the caller's password: other sessions are logged out, this one gets a new pair."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["auth"],
        summary="Change your password",
        request=PasswordChangeSerializer,
        responses={200: PasswordChangedSerializer, 400: ERROR_400, 401: ERROR_401},
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.password_change(
            user=request.user, request=request, **serializer.validated_data
        )
        return Response({"message": "Your password has been changed.", **pair})


# --- Devices -------------------------------------------------------------------------------------------


@extend_schema(tags=["users"])
class DeviceViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's devices (one per browser and address logged in from); revoking one logs out
    every login made from it at once."""

    serializer_class = DeviceSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []
    lookup_value_regex = "[0-9a-f-]{36}"

    def get_queryset(self):
        return selectors.device_list(user=self.request.user)

    def get_object(self):
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except (Device.DoesNotExist, ValueError, DjangoValidationError) as exc:
            # Another user's device, a revoked one or a malformed id: all simply not found.
            raise Http404 from exc

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["current_device_id"] = self.current_device_id()
        return context

    def current_device_id(self) -> str | None:
        if not isinstance(self.request.auth, Token):
            return None
        family = tokens.family_of(self.request.auth.payload)
        if not family:
            return None
        device_id = (
            DeviceLogin.objects.filter(family=family).values_list("device_id", flat=True).first()
        )
        return str(device_id) if device_id else None

    @extend_schema(
        summary="Your devices",
        responses={200: DeviceSerializer(many=True), 401: ERROR_401},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Revoke a device (its tokens get 401 at once)",
        responses={204: None, 401: ERROR_401, 404: ERROR_404},
    )
    def destroy(self, request, *args, **kwargs):
        services.device_revoke(device=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Pre-registration ---------------------------------------------------------------------------------


class PreRegisterView(PublicAuthView):
    """Keeps an email address for launch news; the same address twice is stored once."""

    throttle_classes = SCOPED_THROTTLES
    throttle_scope = "pre_register"

    @extend_schema(
        tags=["users"],
        summary="Pre-register an email address",
        request=PreRegisterSerializer,
        responses={200: PreRegisteredSerializer, 400: ERROR_400, 429: ERROR_THROTTLED},
    )
    def post(self, request):
        serializer = PreRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.pre_registration_create(email=serializer.validated_data["email"])
        return Response({"message": "Thank you: you are on the list.", "email": row.email})


# --- Credits ------------------------------------------------------------------------------------------


class CreditsView(APIView):
    """The caller's credit balance and history (newest first, paginated)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["credits"],
        summary="Your credit balance and history",
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: CreditHistorySerializer, 401: ERROR_401},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.credit_transaction_list(user=request.user), request, view=self
        )
        response = paginator.get_paginated_response(
            CreditTransactionSerializer(page, many=True).data
        )
        balance = selectors.credits_balance(user=request.user)
        response.data = {"balance": balance, **response.data}
        return response


class CreditSpendView(APIView):
    """Spends credits on a feature: never below zero, 402 when the balance is too low."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["credits"],
        summary="Spend credits",
        request=CreditSpendSerializer,
        responses={
            200: CreditSpentSerializer,
            400: ERROR_400,
            401: ERROR_401,
            402: ERROR_402,
            409: ERROR_409,
        },
    )
    def post(self, request):
        serializer = CreditSpendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.credits_spend(user=request.user, **serializer.validated_data)
        return Response(
            {
                "balance": selectors.credits_balance(user=request.user),
                "transaction": CreditTransactionSerializer(record).data,
            }
        )


# --- Payments (Stripe) -----------------------------------------------------------------------------------


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
            event = payments.construct_event(
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
