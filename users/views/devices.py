"""Devices that logged in: /api/v1/users/me/devices/ (revoking one revokes its tokens)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework_simplejwt.tokens import Token

from users import selectors, services, tokens
from users.models import Device, DeviceLogin
from users.serializers.devices import DeviceSerializer
from users.views.common import ERROR_401, ERROR_404


@extend_schema(tags=["users"])
class DeviceViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's devices (one per browser and address logged in from); revoking one logs out
    every login made from it at once."""

    serializer_class = DeviceSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []
    lookup_value_regex = "[0-9a-f-]{36}"

    def get_queryset(self):
        return selectors.device_list(user=self.request.user)

    def get_object(self):
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except (Device.DoesNotExist, ValueError, DjangoValidationError) as exc:
            # Another user's device, a revoked one or a malformed id: all simply not found.
            raise Http404 from exc

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["current_device_id"] = self.current_device_id()
        return context

    def current_device_id(self) -> str | None:
        if not isinstance(self.request.auth, Token):
            return None
        family = tokens.family_of(self.request.auth.payload)
        if not family:
            return None
        device_id = (
            DeviceLogin.objects.filter(family=family).values_list("device_id", flat=True).first()
        )
        return str(device_id) if device_id else None

    @extend_schema(
        summary="Your devices",
        responses={200: DeviceSerializer(many=True), 401: ERROR_401},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Revoke a device (its tokens get 401 at once)",
        responses={204: None, 401: ERROR_401, 404: ERROR_404},
    )
    def destroy(self, request, *args, **kwargs):
        services.device_revoke(device=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
