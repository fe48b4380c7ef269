"""The staff API for OAuth2 applications (optionally bound to an account)."""

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from endpoints import selectors, services
from endpoints.permissions import ApiKeyScopePermission, IsNotApiKey
from endpoints.serializers import (
    OAuthApplicationInputSerializer,
    OAuthApplicationSerializer,
    OAuthApplicationWithSecretSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List OAuth2 applications (staff)"),
    retrieve=extend_schema(summary="Show an OAuth2 application (staff)"),
    create=extend_schema(
        summary="Register an OAuth2 application (the client secret is in this response only)",
        request=OAuthApplicationInputSerializer,
        responses={201: OAuthApplicationWithSecretSerializer},
    ),
    update=extend_schema(
        summary="Replace an OAuth2 application's settings (staff)",
        request=OAuthApplicationInputSerializer,
        responses=OAuthApplicationSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of an OAuth2 application's settings (staff)",
        request=OAuthApplicationInputSerializer,
        responses=OAuthApplicationSerializer,
    ),
    destroy=extend_schema(summary="Delete an OAuth2 application and its tokens (staff)"),
)
@extend_schema(tags=["oauth2"])
class OAuthApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """OAuth2 client registration for staff, with an optional account binding for ingest.

    Staff logged in as themselves only: a delegated credential must not mint client credentials.
    """

    serializer_class = OAuthApplicationSerializer
    permission_classes = [IsAdminUser, IsNotApiKey, ApiKeyScopePermission]

    def get_queryset(self):
        return selectors.oauth_application_list()

    def _reloaded(self, application):
        return self.get_queryset().get(pk=application.pk)

    def create(self, request, *args, **kwargs):
        serializer = OAuthApplicationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        owner = data.pop("user", None) or request.user
        account_id = data.pop("account", None)
        application, raw_secret = services.oauth_application_create(
            user=owner, data=data, account_id=account_id
        )
        application = self._reloaded(application)
        application.client_secret = raw_secret
        return Response(
            OAuthApplicationWithSecretSerializer(application).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        partial = kwargs.get("partial", False)
        application = self.get_object()
        serializer = OAuthApplicationInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        extra = {}
        if "account" in data or not partial:
            extra["account_id"] = data.pop("account", None)
        owner = data.pop("user", None)
        application = services.oauth_application_update(
            application=application, data=data, user=owner, **extra
        )
        return Response(OAuthApplicationSerializer(self._reloaded(application)).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.oauth_application_delete(application=instance)

    @extend_schema(
        summary="Issue a new client secret (in this response only; the old one stops working)",
        request=None,
        responses={200: OAuthApplicationWithSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        application, raw_secret = services.oauth_application_rotate_secret(
            application=self.get_object()
        )
        application = self._reloaded(application)
        application.client_secret = raw_secret
        return Response(OAuthApplicationWithSecretSerializer(application).data)
