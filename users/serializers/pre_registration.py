"""Pre-registration input and answer."""

from rest_framework import serializers

from backend.common.serializers import StrictSerializer


class PreRegisterSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)


class PreRegisteredSerializer(serializers.Serializer):
    message = serializers.CharField()
    email = serializers.EmailField()
