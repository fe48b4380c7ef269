"""Accounts API: accounts, their members, invitations. Thin views over services and selectors.

Tenancy: an account the caller is not a member of answers 404 everywhere; writes that need the
Admin role answer 403 to other members. The members list is Admin-only too (seed 003 says
"admin-only"): normal members see the account, not who else belongs to it.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from accounts import services
from accounts.models import Account, Membership
from accounts.permissions import (
    ADMIN_REQUIRED,
    IsAccountAdmin,
    IsAccountAdminOrReadOnly,
    IsAccountMember,
    require_admin,
)
from accounts.selectors import (
    account_list_for_user,
    membership_list,
    user_find_by_email,
)
from accounts.serializers import (
    AccountInputSerializer,
    AccountOutputSerializer,
    AccountSecretOutputSerializer,
    InvitationAcceptInputSerializer,
    InvitationAcceptOutputSerializer,
    InvitationCheckOutputSerializer,
    InviteInputSerializer,
    InviteOutputSerializer,
    MembershipCreateInputSerializer,
    MembershipOutputSerializer,
    MembershipUpdateInputSerializer,
)
from backend.common.throttling import ScopedRateThrottle
from users.views import PublicAuthView

User = get_user_model()


def _with_role(account: Account, role) -> Account:
    account.my_role = role  # type: ignore[attr-defined]  # per-request, read by the serializer
    return account


@extend_schema(tags=["accounts"])
class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    GenericViewSet,
):
    """Accounts the caller is a member of. Anyone may create one (and becomes its Admin)."""

    queryset = Account.objects.none()
    serializer_class = AccountOutputSerializer
    permission_classes = [IsAuthenticated, IsAccountAdminOrReadOnly]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        return account_list_for_user(user=self.request.user)

    @extend_schema(summary="List the accounts I am a member of")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Create an account (the caller becomes its Admin)",
        request=AccountInputSerializer,
        responses={201: AccountOutputSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = AccountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.account_create(name=data.validated_data["name"], created_by=request.user)
        output = AccountOutputSerializer(_with_role(account, Membership.Role.ADMIN))
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Show an account (app_secret_token only for its Admins)")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def _update(self, request, *, partial: bool):
        account = self.get_object()
        data = AccountInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        account = services.account_update(account=account, **data.validated_data)
        return Response(AccountOutputSerializer(account).data)

    @extend_schema(
        summary="Rename an account (Admin)",
        request=AccountInputSerializer,
        responses={200: AccountOutputSerializer},
    )
    def update(self, request, *args, **kwargs):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Rename an account (Admin)",
        request=AccountInputSerializer,
        responses={200: AccountOutputSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(request, partial=True)

    @extend_schema(summary="Delete an account and everything in it (Admin)", responses={204: None})
    def destroy(self, request, *args, **kwargs):
        services.account_delete(account=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rotate the account's app_secret_token (Admin); the old one stops working",
        request=None,
        responses={200: AccountSecretOutputSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        account = services.account_secret_rotate(account=self.get_object())
        return Response({"id": account.pk, "app_secret_token": str(account.app_secret_token)})


@extend_schema(tags=["accounts"])
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    GenericViewSet,
):
    """Members of one account (Admin only). A member may also remove themselves (leave)."""

    queryset = Membership.objects.none()
    serializer_class = MembershipOutputSerializer
    account_url_kwarg = "account_pk"
    throttle_scope = "invite"

    def get_throttles(self):
        # Adding by email tells whether an address is registered: budget it like invitations.
        if self.action == "create":
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    def get_permissions(self):
        if self.action == "destroy":
            return [IsAuthenticated(), IsAccountMember()]
        return [IsAuthenticated(), IsAccountAdmin()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return membership_list(account_id=self.kwargs["account_pk"])

    @extend_schema(summary="List the account's members (Admin)")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Show one membership (Admin)")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Add an existing user to the account (Admin)",
        description='Identify the user by `user` (id) or `email`; `role` defaults to "Normal user".',
        request=MembershipCreateInputSerializer,
        responses={201: MembershipOutputSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = MembershipCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "user" in values:
            user = User.objects.filter(pk=values["user"]).first()
            if user is None:
                raise ValidationError({"user": ["No user with this id."]})
        else:
            user = user_find_by_email(email=values["email"])
            if user is None:
                raise ValidationError(
                    {"email": ["No user with this email; invite them with users/invite/."]}
                )
        membership = services.membership_add(
            account=request.account_membership.account, user=user, role=values["role"]
        )
        return Response(MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)

    def _update(self, request):
        membership = self.get_object()
        data = MembershipUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_update_role(
            membership=membership, role=data.validated_data["role"]
        )
        return Response(MembershipOutputSerializer(membership).data)

    @extend_schema(
        summary="Change a member's role (Admin)",
        request=MembershipUpdateInputSerializer,
        responses={200: MembershipOutputSerializer},
    )
    def update(self, request, *args, **kwargs):
        return self._update(request)

    @extend_schema(
        summary="Change a member's role (Admin)",
        request=MembershipUpdateInputSerializer,
        responses={200: MembershipOutputSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        return self._update(request)

    @extend_schema(
        summary="Remove a member (Admin), or leave the account (own membership)",
        description="The last Admin cannot be removed (409).",
        responses={204: None},
    )
    def destroy(self, request, *args, **kwargs):
        membership = self.get_object()
        if membership.user_id != request.user.pk and not request.account_membership.is_admin:
            raise PermissionDenied(ADMIN_REQUIRED)
        services.membership_remove(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["accounts"])
class InviteView(APIView):
    """Invite someone by email to an account where the caller is Admin."""

    permission_classes = [IsAuthenticated]
    throttle_scope = "invite"

    def get_throttles(self):
        return [*super().get_throttles(), ScopedRateThrottle()]

    @extend_schema(
        summary="Invite a user by email (Admin of the account)",
        description=(
            "An existing user is added (default role Normal user) and told by email. An unknown "
            "address gets a new inactive user and an email with a single-use, expiring link to "
            "set a password (see invitations/accept/). Inviting someone who has not accepted "
            "yet sends the link again (200); inviting an existing member → 409."
        ),
        request=InviteInputSerializer,
        responses={201: InviteOutputSerializer, 200: InviteOutputSerializer},
    )
    def post(self, request):
        data = InviteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        membership = require_admin(user=request.user, account_id=values["account_id"])
        result = services.user_invite(
            account=membership.account,
            email=values["email"],
            role=values["role"],
            invited_by=request.user,
        )
        if result.pending:
            message = "Invitation sent: the user will set a password through the emailed link."
        else:
            message = "User added to the account."
        body = {
            "message": message,
            "user_created": result.user_created,
            "invitation_pending": result.pending,
            "membership": MembershipOutputSerializer(result.membership).data,
        }
        code = status.HTTP_201_CREATED if result.membership_created else status.HTTP_200_OK
        return Response(body, status=code)


@extend_schema(tags=["accounts"])
class InvitationAcceptView(PublicAuthView):
    """Accept an invitation: set the password of the invited (inactive) user and activate them."""

    # PublicAuthView: opened by someone with no account yet, so a stray Authorization header
    # is ignored.

    @extend_schema(
        summary="Check an invitation link (does not use it up)",
        parameters=[
            OpenApiParameter("uid", str, required=True),
            OpenApiParameter("token", str, required=True),
        ],
        responses={200: InvitationCheckOutputSerializer},
    )
    def get(self, request):
        user = services.invitation_user_get(
            uid=request.query_params.get("uid", ""), token=request.query_params.get("token", "")
        )
        if user is None:
            raise ValidationError({"token": [services.INVALID_INVITATION]})
        return Response(
            {
                "valid": True,
                "email": user.email,
                "message": 'POST {"uid", "token", "password"} to this URL to accept.',
            }
        )

    @extend_schema(
        summary="Accept an invitation: set a password and activate the user",
        request=InvitationAcceptInputSerializer,
        responses={200: InvitationAcceptOutputSerializer},
    )
    def post(self, request):
        data = InvitationAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.invitation_accept(**data.validated_data)
        return Response(
            {
                "message": "Invitation accepted: you can now log in.",
                "id": str(user.pk),
                "email": user.email,
            }
        )
