"""The caller's profile: GET/PATCH /api/v1/users/me/ (avatar included)."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.parsers import SafeJSONParser
from users import services
from users.serializers.profile import ProfileUpdateSerializer, UserSerializer
from users.views.common import ERROR_400, ERROR_401


class MeView(APIView):
    """The caller's profile: GET, and PATCH of the editable fields (JSON or multipart)."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=["users"], summary="Your profile", responses={200: UserSerializer, 401: ERROR_401}
    )
    def get(self, request):
        return Response(UserSerializer(request.user, context={"request": request}).data)

    @extend_schema(
        tags=["users"],
        summary="Update your profile",
        description=(
            "JSON, or `multipart/form-data` to upload an `avatar` (PNG, JPEG, GIF or WebP, at "
            "most AVATAR_MAX_BYTES; the bytes are checked, not the declared type). "
            "`avatar: null` removes it. Invalid values → 400 naming the field, nothing changed."
        ),
        request={
            "application/json": ProfileUpdateSerializer,
            "multipart/form-data": ProfileUpdateSerializer,
        },
        responses={200: UserSerializer, 400: ERROR_400, 401: ERROR_401},
    )
    def patch(self, request):
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user, context={"request": request}).data)
