"""The seeds' own identity routes (seed 002 /api/access/, 003 /users/, 004 /api/v1/user/...).

Each is a canonical view from users/views.py with the seed's request/response shape; the schema
tags them `compat`. Routed in backend/compat_urls.py.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions

from users.serializers import (
    CreatedUserSerializer,
    LegacyLoginResponseSerializer,
    LegacyRefreshResponseSerializer,
    LegacyRefreshTokenSerializer,
    LoginSerializer,
    MessageSerializer,
    ProfileUpdateSerializer,
    RegisterSerializer,
    RegisterWithConfirmSerializer,
    StaffUserSerializer,
    TokenPairSerializer,
    UserBriefSerializer,
    UserSerializer,
)
from users.views import (
    ERROR_400,
    ERROR_401,
    ERROR_403,
    ERROR_429,
    USER_LIST_PARAMETERS,
    LoginView,
    LogoutView,
    MeView,
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
