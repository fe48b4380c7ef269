"""Seed 004's identity routes: /api/v1/user/create|login|refresh|logout, /api/v1/users, and the
Postman aliases /api/account/create/ and /api/login/.
"""

from drf_spectacular.utils import extend_schema_view
from rest_framework import exceptions

from users.compat_views.common import REFRESH_HEADER, compat_schema
from users.serializers.common import MessageSerializer
from users.serializers.login import LegacyLoginResponseSerializer, LoginSerializer
from users.serializers.profile import StaffUserSerializer, UserBriefSerializer
from users.serializers.registration import CreatedUserSerializer, RegisterSerializer
from users.serializers.tokens import LegacyRefreshResponseSerializer, LegacyRefreshTokenSerializer
from users.views.common import ERROR_400, ERROR_401, ERROR_403, ERROR_429
from users.views.login import LoginView
from users.views.registration import RegisterView
from users.views.staff import USER_LIST_PARAMETERS, UserViewSet
from users.views.tokens import LogoutView, RefreshView


@extend_schema_view(
    post=compat_schema(
        "compat_user_create",
        "Seed 004: register (username, email, password)",
        request=RegisterSerializer,
        responses={201: CreatedUserSerializer, 400: ERROR_400},
    )
)
class LegacyCreateView(RegisterView):
    output_serializer = CreatedUserSerializer


@extend_schema_view(
    post=compat_schema(
        "compat_account_create",
        "Seed 004 Postman: register (alias of /api/v1/user/create)",
        request=RegisterSerializer,
        responses={201: CreatedUserSerializer, 400: ERROR_400},
    )
)
class LegacyAccountCreateView(LegacyCreateView):
    pass


@extend_schema_view(
    post=compat_schema(
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
    post=compat_schema(
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
    post=compat_schema(
        "compat_user_refresh",
        "Seed 004: rotate a refresh token (X-Refresh-Token header or refresh_token body)",
        parameters=[REFRESH_HEADER],
        request=LegacyRefreshTokenSerializer,
        responses={200: LegacyRefreshResponseSerializer, 400: ERROR_400, 401: ERROR_401},
    )
)
class LegacyRefreshView(RefreshView):
    def refresh_token(self, request) -> str:
        token = legacy_refresh_token(request, required=True)
        assert token is not None  # required=True answers 400 instead of returning None
        return token

    def render(self, pair: dict) -> dict:
        return {
            "message": "Token refreshed successfully",
            "access_token": pair["access"],
            "refresh_token": pair["refresh"],
        }


@extend_schema_view(
    post=compat_schema(
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
    list=compat_schema(
        "compat_users_list_staff",
        "Seed 004: list users (staff only)",
        parameters=USER_LIST_PARAMETERS,
        responses={200: StaffUserSerializer(many=True), 401: ERROR_401, 403: ERROR_403},
    )
)
class LegacyUserViewSet(UserViewSet):
    pass
