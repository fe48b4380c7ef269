"""Seed 002's identity routes under /api/access/: register, login, refresh, me, logged devices,
reset-password and email-confirmation control, pre-register.
"""

from drf_spectacular.utils import extend_schema_view
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from users import services
from users.compat_views.common import compat_schema
from users.serializers.common import MessageSerializer
from users.serializers.devices import DeviceSerializer
from users.serializers.email_confirmation import (
    EmailConfirmationControlSerializer,
    EmailConfirmedSerializer,
)
from users.serializers.login import LoginSerializer, TokenPairSerializer
from users.serializers.passwords import ResetPasswordControlSerializer
from users.serializers.pre_registration import PreRegisteredSerializer, PreRegisterSerializer
from users.serializers.profile import ProfileUpdateSerializer, UserSerializer
from users.serializers.registration import RegisterWithConfirmSerializer
from users.views.common import (
    AUTH_HEADER,
    ERROR_400,
    ERROR_401,
    ERROR_404,
    ERROR_429,
    ERROR_THROTTLED,
    SCOPED_THROTTLES,
)
from users.views.devices import DeviceViewSet
from users.views.email_confirmation import EMAIL_CONFIRMED, RESEND_SENT
from users.views.login import LoginView
from users.views.passwords import RESET_DONE, RESET_REQUESTED
from users.views.pre_registration import PreRegisterView
from users.views.profile import MeView
from users.views.registration import RegisterView
from users.views.tokens import RefreshView


@extend_schema_view(
    post=compat_schema(
        "compat_access_users_create",
        "Seed 002: register (password_confirm required)",
        request=RegisterWithConfirmSerializer,
        responses={201: UserSerializer, 400: ERROR_400},
    )
)
class AccessRegisterView(RegisterView):
    input_serializer = RegisterWithConfirmSerializer


@extend_schema_view(
    post=compat_schema(
        "compat_access_auth_login",
        "Seed 002: log in with email + password",
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 400: ERROR_400, 401: ERROR_401, 429: ERROR_429},
    )
)
class AccessLoginView(LoginView):
    pass


@extend_schema_view(
    post=compat_schema("compat_access_auth_refresh", "Seed 002: rotate a refresh token")
)
class AccessRefreshView(RefreshView):
    pass


@extend_schema_view(
    get=compat_schema("compat_access_users_me_retrieve", "Seed 002: your profile"),
    patch=compat_schema(
        "compat_access_users_me_update",
        "Seed 002: update your profile",
        request=ProfileUpdateSerializer,
        responses={200: UserSerializer, 400: ERROR_400, 401: ERROR_401},
    ),
)
class AccessMeView(MeView):
    pass


@extend_schema_view(
    list=compat_schema(
        "compat_access_logged_devices_list",
        "Seed 002: your logged devices",
        responses={200: DeviceSerializer(many=True), 401: ERROR_401},
    ),
    destroy=compat_schema(
        "compat_access_logged_devices_destroy",
        "Seed 002: revoke a logged device (its tokens get 401 at once)",
        responses={204: None, 401: ERROR_401, 404: ERROR_404},
    ),
)
class AccessLoggedDevicesViewSet(DeviceViewSet):
    pass


class ResetPasswordControlView(APIView):
    """Seed 002's password route: `{"email"}` asks for a link, `{"token", "new_password"}` sets it."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = SCOPED_THROTTLES
    throttle_scope = "password_reset"

    @compat_schema(
        "compat_access_reset_password_control",
        "Seed 002: request a password reset, or confirm it",
        description=(
            'Two shapes on one route. Request: `{"email"}` → 200 with the same message whether '
            'or not the address is registered. Confirm: `{"token", "new_password"}` (and '
            "optionally `new_password_confirm`) → 200; the token works once and every session "
            "of the user is logged out. Canonical: `/api/v1/auth/password/reset/` and "
            "`/api/v1/auth/password/reset/confirm/`."
        ),
        request=ResetPasswordControlSerializer,
        responses={200: MessageSerializer, 400: ERROR_400, 429: ERROR_THROTTLED},
    )
    def post(self, request):
        serializer = ResetPasswordControlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "token" in data:
            services.password_reset_confirm(token=data["token"], new_password=data["new_password"])
            return Response(RESET_DONE)
        services.password_reset_request(email=data["email"], request=request)
        return Response(RESET_REQUESTED)


class EmailConfirmationControlView(APIView):
    """Seed 002's email route: `{"token"}` confirms; `{"action": "resend"}` (authenticated)
    mails a new link. Also `POST .../resend/` with an empty body."""

    permission_classes = [permissions.AllowAny]
    resend_only = False

    def get_authenticate_header(self, request):
        return AUTH_HEADER

    def get_throttles(self):
        # Resending mails: it gets the resend budget; confirming is only a token check.
        if self.wants_resend(self.request):
            self.throttle_scope = "email_resend"
            return [throttle() for throttle in SCOPED_THROTTLES]
        return super().get_throttles()

    def wants_resend(self, request) -> bool:
        return self.resend_only or (
            isinstance(request.data, dict) and request.data.get("action") == "resend"
        )

    @compat_schema(
        "compat_access_email_confirmation_control",
        "Seed 002: confirm your email, or resend the confirmation email",
        description=(
            'Confirm: `{"token"}` (no authentication needed) → 200. Resend: '
            '`{"action": "resend"}` with a Bearer token → 200 and a new email (older links '
            "stop working), or `POST /api/access/email-confirmation-control/resend/`. "
            "Canonical: `/api/v1/auth/email/confirm/` and `/api/v1/auth/email/resend/`."
        ),
        request=EmailConfirmationControlSerializer,
        responses={
            200: EmailConfirmedSerializer,
            400: ERROR_400,
            401: ERROR_401,
            429: ERROR_THROTTLED,
        },
    )
    def post(self, request):
        if self.resend_only:
            data = {"action": "resend"}
        else:
            serializer = EmailConfirmationControlSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        if data.get("action") == "resend":
            if not request.user or not request.user.is_authenticated:
                raise exceptions.NotAuthenticated()
            services.email_confirmation_resend(user=request.user)
            return Response(RESEND_SENT)
        services.email_confirm(token=data["token"])
        return Response(EMAIL_CONFIRMED)


class EmailConfirmationResendView(EmailConfirmationControlView):
    """Seed 002's resend form: `POST .../email-confirmation-control/resend/` (authenticated)."""

    permission_classes = [permissions.IsAuthenticated]
    resend_only = True

    @compat_schema(
        "compat_access_email_confirmation_resend",
        "Seed 002: resend the confirmation email",
        request=None,
        responses={200: MessageSerializer, 400: ERROR_400, 401: ERROR_401, 429: ERROR_THROTTLED},
    )
    def post(self, request):
        return super().post(request)


@extend_schema_view(
    post=compat_schema(
        "compat_access_pre_register",
        "Seed 002: pre-register an email address",
        request=PreRegisterSerializer,
        responses={200: PreRegisteredSerializer, 400: ERROR_400, 429: ERROR_THROTTLED},
    )
)
class AccessPreRegisterView(PreRegisterView):
    pass
