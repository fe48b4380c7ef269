"""The seeds' own identity routes (seed 002 /api/access/, 003 /users/, 004 /api/v1/user/...).

Each is a canonical view from users/views.py with the seed's request/response shape; the schema
tags them `compat`. Routed in backend/compat_urls.py.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from users import services
from users.serializers import (
    CreatedUserSerializer,
    DeviceSerializer,
    EmailConfirmationControlSerializer,
    EmailConfirmedSerializer,
    LegacyLoginResponseSerializer,
    LegacyRefreshResponseSerializer,
    LegacyRefreshTokenSerializer,
    LoginSerializer,
    MessageSerializer,
    PreRegisteredSerializer,
    PreRegisterSerializer,
    ProfileUpdateSerializer,
    RegisterSerializer,
    RegisterWithConfirmSerializer,
    ResetPasswordControlSerializer,
    StaffUserSerializer,
    TokenPairSerializer,
    UserBriefSerializer,
    UserSerializer,
)
from users.views import (
    AUTH_HEADER,
    EMAIL_CONFIRMED,
    ERROR_400,
    ERROR_401,
    ERROR_403,
    ERROR_404,
    ERROR_429,
    ERROR_THROTTLED,
    RESEND_SENT,
    RESET_DONE,
    RESET_REQUESTED,
    SCOPED_THROTTLES,
    USER_LIST_PARAMETERS,
    DeviceViewSet,
    LoginView,
    LogoutView,
    MeView,
    PreRegisterView,
    RefreshView,
    RegisterView,
    UserViewSet,
)

REFRESH_HEADER = OpenApiParameter(
    "X-Refresh-Token",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The refresh token (or send `refresh_token` in the body).",
)


def _compat(operation_id: str, summary: str, **kwargs):
    return extend_schema(tags=["compat"], operation_id=operation_id, summary=summary, **kwargs)


# --- seed 002: /api/access/... ---------------------------------------------------------------------


@extend_schema_view(
    post=_compat(
        "compat_access_users_create",
        "Seed 002: register (password_confirm required)",
        request=RegisterWithConfirmSerializer,
        responses={201: UserSerializer, 400: ERROR_400},
    )
)
class AccessRegisterView(RegisterView):
    input_serializer = RegisterWithConfirmSerializer


@extend_schema_view(
    post=_compat(
        "compat_access_auth_login",
        "Seed 002: log in with email + password",
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 400: ERROR_400, 401: ERROR_401, 429: ERROR_429},
    )
)
class AccessLoginView(LoginView):
    pass


@extend_schema_view(post=_compat("compat_access_auth_refresh", "Seed 002: rotate a refresh token"))
class AccessRefreshView(RefreshView):
    pass


@extend_schema_view(
    get=_compat("compat_access_users_me_retrieve", "Seed 002: your profile"),
    patch=_compat(
        "compat_access_users_me_update",
        "Seed 002: update your profile",
        request=ProfileUpdateSerializer,
        responses={200: UserSerializer, 400: ERROR_400, 401: ERROR_401},
    ),
)
class AccessMeView(MeView):
    pass


@extend_schema_view(
    list=_compat(
        "compat_access_logged_devices_list",
        "Seed 002: your logged devices",
        responses={200: DeviceSerializer(many=True), 401: ERROR_401},
    ),
    destroy=_compat(
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

    @_compat(
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

    @_compat(
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

    @_compat(
        "compat_access_email_confirmation_resend",
        "Seed 002: resend the confirmation email",
        request=None,
        responses={200: MessageSerializer, 400: ERROR_400, 401: ERROR_401, 429: ERROR_THROTTLED},
    )
    def post(self, request):
        return super().post(request)


@extend_schema_view(
    post=_compat(
        "compat_access_pre_register",
        "Seed 002: pre-register an email address",
        request=PreRegisterSerializer,
        responses={200: PreRegisteredSerializer, 400: ERROR_400, 429: ERROR_THROTTLED},
    )
)
class AccessPreRegisterView(PreRegisterView):
    pass


# --- seed 003: /users/register/, /users/logout/ ---------------------------------------------------


@extend_schema_view(
    post=_compat(
        "compat_users_register",
        "Seed 003: register with email + password (creates a personal account)",
        request=RegisterSerializer,
        responses={201: UserSerializer, 400: ERROR_400},
    )
)
class UsersRegisterView(RegisterView):
    pass


@extend_schema_view(post=_compat("compat_users_logout", "Seed 003: log out (revokes the token)"))
class UsersLogoutView(LogoutView):
    pass


# --- seed 004: /api/v1/user/..., /api/v1/users, Postman aliases ------------------------------------


@extend_schema_view(
    post=_compat(
        "compat_user_create",
        "Seed 004: register (username, email, password)",
        request=RegisterSerializer,
        responses={201: CreatedUserSerializer, 400: ERROR_400},
    )
)
class LegacyCreateView(RegisterView):
    output_serializer = CreatedUserSerializer


@extend_schema_view(
    post=_compat(
        "compat_account_create",
        "Seed 004 Postman: register (alias of /api/v1/user/create)",
        request=RegisterSerializer,
        responses={201: CreatedUserSerializer, 400: ERROR_400},
    )
)
class LegacyAccountCreateView(LegacyCreateView):
    pass


@extend_schema_view(
    post=_compat(
        "compat_user_login",
        "Seed 004: log in (email or username + password)",
        request=LoginSerializer,
        responses={
            200: LegacyLoginResponseSerializer,
            400: ERROR_400,
            401: ERROR_401,
            429: ERROR_429,
        },
    )
)
class LegacyLoginView(LoginView):
    def render(self, user, pair: dict) -> dict:
        return {
            "message": "Login successful",
            "access_token": pair["access"],
            "refresh_token": pair["refresh"],
            "user": UserBriefSerializer(user).data,
        }


@extend_schema_view(
    post=_compat(
        "compat_login",
        "Seed 004 Postman: log in (alias of /api/v1/user/login)",
        request=LoginSerializer,
        responses={
            200: LegacyLoginResponseSerializer,
            400: ERROR_400,
            401: ERROR_401,
            429: ERROR_429,
        },
    )
)
class LegacyPostmanLoginView(LegacyLoginView):
    pass


def legacy_refresh_token(request, *, required: bool) -> str | None:
    """Seed 004: the refresh token from `X-Refresh-Token`, else the body's `refresh_token`."""
    serializer = LegacyRefreshTokenSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    token = request.headers.get("X-Refresh-Token", "").strip()
    token = token or serializer.validated_data.get("refresh_token")
    if required and not token:
        raise exceptions.ValidationError(
            {"refresh_token": ["Send the refresh token in X-Refresh-Token or refresh_token."]}
        )
    return token or None


@extend_schema_view(
    post=_compat(
        "compat_user_refresh",
        "Seed 004: rotate a refresh token (X-Refresh-Token header or refresh_token body)",
        parameters=[REFRESH_HEADER],
        request=LegacyRefreshTokenSerializer,
        responses={200: LegacyRefreshResponseSerializer, 400: ERROR_400, 401: ERROR_401},
    )
)
class LegacyRefreshView(RefreshView):
    def refresh_token(self, request) -> str:
        return legacy_refresh_token(request, required=True)

    def render(self, pair: dict) -> dict:
        return {
            "message": "Token refreshed successfully",
            "access_token": pair["access"],
            "refresh_token": pair["refresh"],
        }


@extend_schema_view(
    post=_compat(
        "compat_user_logout",
        "Seed 004: log out (Bearer access + X-Refresh-Token or refresh_token; both revoked)",
        parameters=[REFRESH_HEADER],
        request=LegacyRefreshTokenSerializer,
        responses={200: MessageSerializer, 400: ERROR_400, 401: ERROR_401},
    )
)
class LegacyLogoutView(LogoutView):
    refresh_field = "refresh_token"

    def refresh_token(self, request) -> str | None:
        return legacy_refresh_token(request, required=False)


@extend_schema_view(
    list=_compat(
        "compat_users_list_staff",
        "Seed 004: list users (staff only)",
        parameters=USER_LIST_PARAMETERS,
        responses={200: StaffUserSerializer(many=True), 401: ERROR_401, 403: ERROR_403},
    )
)
class LegacyUserViewSet(UserViewSet):
    pass
