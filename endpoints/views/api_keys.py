"""API keys: CRUD of the caller's keys and regenerate (the key is shown once)."""

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from endpoints import selectors, services
from endpoints.models import ApiKey
from endpoints.permissions import IsNotApiKey
from endpoints.serializers import (
    ApiKeyInputSerializer,
    ApiKeyRegenerateSerializer,
    ApiKeySerializer,
    ApiKeyWithSecretSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List your API keys (prefix only, never the key)"),
    retrieve=extend_schema(summary="Show one of your API keys"),
    create=extend_schema(
        summary="Create an API key (the full key is in this response only)",
        request=ApiKeyInputSerializer,
        responses={201: ApiKeyWithSecretSerializer},
        examples=[OpenApiExample("Seed 000", value={"name": "My API Key"}, request_only=True)],
    ),
    update=extend_schema(
        summary="Replace an API key's settings",
        request=ApiKeyInputSerializer,
        responses=ApiKeySerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of an API key's settings",
        request=ApiKeyInputSerializer,
        responses=ApiKeySerializer,
    ),
    destroy=extend_schema(summary="Delete an API key (it stops working at once)"),
)
@extend_schema(tags=["api-keys"])
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's API keys. Managed with a user login only: a key cannot manage keys."""

    serializer_class = ApiKeySerializer
    permission_classes = [IsAuthenticated, IsNotApiKey]
    queryset = ApiKey.objects.none()

    def get_queryset(self):
        return selectors.api_key_list(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = ApiKeyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw = services.api_key_create(user=request.user, **serializer.to_service_kwargs())
        api_key.key = raw
        return Response(ApiKeyWithSecretSerializer(api_key).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        api_key = self.get_object()
        serializer = ApiKeyInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        api_key = services.api_key_update(api_key=api_key, data=serializer.to_service_kwargs())
        return Response(ApiKeySerializer(api_key).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.api_key_delete(api_key=instance)

    @extend_schema(
        summary="Regenerate an API key (new key in this response; old one invalid, or after a grace period)",
        request=ApiKeyRegenerateSerializer,
        responses={200: ApiKeyWithSecretSerializer},
    )
    @action(detail=True, methods=["post"])
    def regenerate(self, request, pk=None):
        api_key = self.get_object()
        serializer = ApiKeyRegenerateSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        api_key, raw = services.api_key_regenerate(
            api_key=api_key, grace_period_seconds=serializer.validated_data["grace_period_seconds"]
        )
        api_key.key = raw
        return Response(ApiKeyWithSecretSerializer(api_key).data)
