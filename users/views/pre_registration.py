"""Pre-registration: POST /api/v1/pre-register/ (idempotent, throttled)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from users import services
from users.serializers.pre_registration import PreRegisteredSerializer, PreRegisterSerializer
from users.views.common import ERROR_400, ERROR_THROTTLED, SCOPED_THROTTLES, PublicAuthView


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
