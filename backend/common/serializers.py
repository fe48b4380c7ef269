"""Serializer building blocks shared by the apps."""

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

# Type checkers see the mixin as the serializer it is mixed into (`fields`, the next
# `to_internal_value`); at run time it stays a plain mixin.
if TYPE_CHECKING:
    _Base = serializers.Serializer[Any]
else:
    _Base = object


class StrictFieldsMixin(_Base):
    """Refuses unknown fields with 400 naming them, so a typo never passes silently."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(self.fields)
            unknown = sorted(set(data) - known)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A plain serializer that refuses unknown fields."""


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer[Any]):
    """A model serializer that refuses unknown fields."""
