"""Registration: POST /api/v1/auth/register/."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from users import services
from users.serializers.profile import UserSerializer
from users.serializers.registration import RegisterSerializer
from users.views.common import ERROR_400, PublicAuthView


class RegisterView(PublicAuthView):
    """Creates a user; returns the profile (201, no tokens: log in next)."""

    input_serializer = RegisterSerializer
    output_serializer: type[serializers.Serializer] = UserSerializer

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
