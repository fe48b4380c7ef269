"""Seed 003 compatibility views of accounts: the seed's login, its user directory, and the
account views retagged for the compat routes (mounted by backend/compat_urls.py only)."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts import services
from accounts.selectors import (
    account_ids_for_user,
    user_list_visible,
)
from accounts.serializers import (
    DirectoryUserOutputSerializer,
    DirectoryUserUpdateInputSerializer,
    SeedLoginInputSerializer,
    SeedLoginOutputSerializer,
)
from accounts.views import AccountViewSet, InviteView, MembershipViewSet
from backend.common.filters import query_text
from backend.common.schema import compat_schema
from backend.common.throttling import ScopedRateThrottle
from users.services import token_pair_for_user, user_authenticate
from users.views import PublicAuthView

User = get_user_model()

COMPAT = ["compat"]


@extend_schema(tags=COMPAT)
class CompatAccountViewSet(AccountViewSet):
    """Seed 003 `/accounts/`, `/accounts/{id}/` (same behaviour as /api/v1/accounts/)."""

    schema = compat_schema(AccountViewSet)


@extend_schema(tags=COMPAT)
class CompatMembershipViewSet(MembershipViewSet):
    """Seed 003 `/accounts/{id}/members/` (same behaviour as /api/v1/accounts/{id}/members/)."""

    schema = compat_schema(MembershipViewSet)


@extend_schema(tags=COMPAT)
class CompatInviteView(InviteView):
    """Seed 003 `POST /users/invite/` (same behaviour as /api/v1/users/invite/)."""

    schema = compat_schema(InviteView)


@extend_schema(tags=COMPAT)
class SeedLoginView(PublicAuthView):
    """Seed 003 `POST /users/login/`: a token for `Authorization: Token`, the user id and accounts."""

    schema = compat_schema()

    # PublicAuthView: a stale Authorization header is ignored and a 401 keeps WWW-Authenticate.
    # Per-IP budget for password logins (`login` rate), on top of users' per-account lockout.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        summary="Log in with email (or username) and password",
        request=SeedLoginInputSerializer,
        responses={200: SeedLoginOutputSerializer},
    )
    def post(self, request):
        data = SeedLoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = user_authenticate(
            identifier=values.get("email") or values.get("username"),
            password=values["password"],
            request=request,
        )
        pair = token_pair_for_user(user=user, request=request)
        return Response(
            {
                "token": pair["access"],
                "refresh": pair["refresh"],
                "id": str(user.pk),
                "accounts": account_ids_for_user(user=user),
            }
        )


@extend_schema(tags=COMPAT)
class UserDirectoryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    GenericViewSet,
):
    """Seed 003 `/users/`: oneself and the members of the accounts one administers.

    Staff see everyone. Only the user themself or staff may edit: a visible user one may not
    edit answers 403, an invisible one 404.
    """

    schema = compat_schema()

    queryset = User.objects.none()
    serializer_class = DirectoryUserOutputSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        email = query_text(self.request, "email") if self.action == "list" else None
        return user_list_visible(actor=self.request.user, email=email)

    @extend_schema(
        summary="List users I can see (myself, members of accounts I administer; staff: all)",
        parameters=[OpenApiParameter("email", str, description="Exact email, any case.")],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Show a user I can see")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def _update(self, request):
        user = self.get_object()
        if user.pk != request.user.pk and not request.user.is_staff:
            raise PermissionDenied("You can only edit your own user.")
        data = DirectoryUserUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(actor=request.user, user=user, **data.validated_data)
        return Response(DirectoryUserOutputSerializer(user).data)

    @extend_schema(
        summary="Edit myself (staff: anyone)",
        request=DirectoryUserUpdateInputSerializer,
        responses={200: DirectoryUserOutputSerializer},
    )
    def update(self, request, *args, **kwargs):
        return self._update(request)

    @extend_schema(
        summary="Edit myself (staff: anyone)",
        request=DirectoryUserUpdateInputSerializer,
        responses={200: DirectoryUserOutputSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(request)
