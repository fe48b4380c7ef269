"""Users for staff: /api/v1/users/ and /api/v1/users/{id}/."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, viewsets

from backend.common.filters import query_text
from users import selectors
from users.serializers.profile import StaffUserSerializer
from users.views.common import ERROR_401, ERROR_403

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
            email=query_text(self.request, "email"),
            search=query_text(self.request, "search"),
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
