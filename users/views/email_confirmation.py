"""Email confirmation: confirm and resend."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from users import services
from users.serializers.common import MessageSerializer
from users.serializers.email_confirmation import EmailConfirmedSerializer, EmailTokenSerializer
from users.views.common import (
    ERROR_400,
    ERROR_401,
    ERROR_THROTTLED,
    SCOPED_THROTTLES,
    PublicAuthView,
)

EMAIL_CONFIRMED = {"message": "Your email address is confirmed.", "email_confirmed": True}


RESEND_SENT = {"message": "A new confirmation email is on its way."}


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
