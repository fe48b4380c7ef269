"""A test-only URL map with views that fail in the ways the error plumbing must handle."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.serializers import StrictSerializer


class EchoInput(StrictSerializer):
    name = serializers.CharField(max_length=10)


class EchoView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def post(self, request):
        serializer = EchoInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class CrashView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError("secret internals: password=hunter2")


def plain_crash(request):
    raise RuntimeError("secret internals outside DRF")


urlpatterns = [
    path("api/v1/echo/", EchoView.as_view()),
    path("api/v1/crash/", CrashView.as_view()),
    path("api/v1/plain-crash/", plain_crash),
    path("", include("backend.urls")),
]
