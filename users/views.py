"""Thin views of the identity app: validate with one serializer, call a service, render another.

The compat views (users/compat_views.py) subclass these and only change the shapes.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import Token

from users import selectors, services
from users.serializers import (
    EmptySerializer,
    IdentityErrorSerializer,
    LoginSerializer,
    LogoutSerializer,
    MessageSerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    RegisterSerializer,
    StaffUserSerializer,
    TokenPairSerializer,
    UserSerializer,
    VerifySerializer,
)

User = get_user_model()

AUTH_HEADER = 'Bearer realm="api"'


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=IdentityErrorSerializer, description=description)


ERROR_400 = _error("Invalid input (the details name each field).")
ERROR_401 = _error("Authentication credentials were not provided or are invalid.")
ERROR_403 = _error("You do not have permission to perform this action.")
ERROR_429 = _error("Too many failed login attempts (Retry-After says when to try again).")


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
    """The caller's profile: GET, and PATCH of the editable fields."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["users"], summary="Your profile", responses={200: UserSerializer, 401: ERROR_401}
    )
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        tags=["users"],
        summary="Update your profile",
        request=ProfileUpdateSerializer,
        responses={200: UserSerializer, 400: ERROR_400, 401: ERROR_401},
    )
    def patch(self, request):
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)


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
