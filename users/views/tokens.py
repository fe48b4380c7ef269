"""JWT refresh (rotation), verify and logout."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import Token

from users import selectors, services
from users.serializers.common import EmptySerializer, MessageSerializer
from users.serializers.login import TokenPairSerializer
from users.serializers.tokens import LogoutSerializer, RefreshSerializer, VerifySerializer
from users.views.common import ERROR_400, ERROR_401, PublicAuthView


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
