"""Credit balance, history and spending."""

from rest_framework import serializers

from backend.common.serializers import StrictSerializer
from users.models import CreditTransaction


class CreditTransactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditTransaction
        fields = ["id", "amount", "balance_after", "reason", "reference", "created_at"]
        read_only_fields = fields


class CreditHistorySerializer(serializers.Serializer):
    """The balance and one page of the credit history."""

    balance = serializers.IntegerField()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CreditTransactionSerializer(many=True)


class CreditSpendSerializer(StrictSerializer):
    """Spend credits on a feature; a `reference` makes a retried call spend once."""

    amount = serializers.IntegerField(min_value=1, max_value=1_000_000_000)
    reason = serializers.CharField(max_length=255)
    reference = serializers.CharField(max_length=255, required=False, allow_blank=True)


class CreditSpentSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    transaction = CreditTransactionSerializer()
