"""Password reset (request, confirm) and change."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from users import services
from users.serializers.common import MessageSerializer
from users.serializers.passwords import (
    PasswordChangedSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
)
from users.views.common import (
    ERROR_400,
    ERROR_401,
    ERROR_THROTTLED,
    SCOPED_THROTTLES,
    PublicAuthView,
)

# The same answer whether or not the address is registered (no user enumeration).
RESET_REQUESTED = {
    "message": "If an account uses this email address, a password reset link is on its way."
}


RESET_DONE = {"message": "Your password has been reset. Log in with the new password."}


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
