"""Login: POST /api/v1/auth/token/ (JWT pair; lockout answers 429)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.throttling import ScopedRateThrottle
from users import services
from users.serializers.login import LoginSerializer, TokenPairSerializer
from users.views.common import ERROR_400, ERROR_401, ERROR_429, PublicAuthView


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
