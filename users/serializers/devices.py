"""Devices that logged in."""

from rest_framework import serializers

from users.models import Device


class DeviceSerializer(serializers.ModelSerializer):
    """A device the user logged in from; `current` marks the one making this request."""

    current = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = [
            "id",
            "browser",
            "os",
            "device",
            "device_type",
            "ip",
            "user_agent",
            "first_seen",
            "last_seen",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, device) -> bool:
        return str(device.pk) == self.context.get("current_device_id")
