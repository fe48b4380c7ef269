"""Credits: balance and history, and spending (/api/v1/users/me/credits/)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.pagination import PageNumberPagination
from users import selectors, services
from users.serializers.credits import (
    CreditHistorySerializer,
    CreditSpendSerializer,
    CreditSpentSerializer,
    CreditTransactionSerializer,
)
from users.views.common import ERROR_400, ERROR_401, ERROR_402, ERROR_409


class CreditsView(APIView):
    """The caller's credit balance and history (newest first, paginated)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["credits"],
        summary="Your credit balance and history",
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: CreditHistorySerializer, 401: ERROR_401},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.credit_transaction_list(user=request.user), request, view=self
        )
        response = paginator.get_paginated_response(
            CreditTransactionSerializer(page, many=True).data
        )
        balance = selectors.credits_balance(user=request.user)
        response.data = {"balance": balance, **response.data}
        return response


class CreditSpendView(APIView):
    """Spends credits on a feature: never below zero, 402 when the balance is too low."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["credits"],
        summary="Spend credits",
        request=CreditSpendSerializer,
        responses={
            200: CreditSpentSerializer,
            400: ERROR_400,
            401: ERROR_401,
            402: ERROR_402,
            409: ERROR_409,
        },
    )
    def post(self, request):
        serializer = CreditSpendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.credits_spend(user=request.user, **serializer.validated_data)
        return Response(
            {
                "balance": selectors.credits_balance(user=request.user),
                "transaction": CreditTransactionSerializer(record).data,
            }
        )
