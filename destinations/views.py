"""HTTP layer of the destinations app: destinations and logs (list, detail, retry, replay).
The ingest endpoint is in `ingest_views`.

Views are thin: they resolve the caller's membership (404 for outsiders, 403 for a missing
role), validate with an input serializer, call a service and render an output serializer.
"""

import logging

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response

from accounts.permissions import require_membership
from accounts.selectors import memberships_of
from backend.common.renderers import RawJSONRenderer
from backend.common.schema import compat_schema
from destinations import selectors, services
from destinations.caching import logs_page_cache_key, logs_page_get, logs_page_set
from destinations.filters import DeliveryLogFilter
from destinations.models import DeliveryLog, Destination
from destinations.permissions import require_admin
from destinations.serializers import (
    DeliveryLogDetailSerializer,
    DeliveryLogSerializer,
    DestinationInputSerializer,
    DestinationOutputSerializer,
    DestinationStatsSerializer,
    ReplayInputSerializer,
    ReplayOutputSerializer,
    RotateSecretInputSerializer,
    StatsQuerySerializer,
    TestPingOutputSerializer,
)
from destinations.stats import destination_stats

logger = logging.getLogger(__name__)

EVENT_ID_HEADER = "CL-X-EVENT-ID"
EVENT_TYPE_HEADER = "CL-X-EVENT-TYPE"
MAX_EVENT_ID_LENGTH = 255
ERROR_RESPONSES = {
    400: OpenApiResponse(description="Invalid input"),
    401: OpenApiResponse(description="No or invalid credentials"),
    403: OpenApiResponse(description="Not an Admin of the account"),
    404: OpenApiResponse(description="Not found, or not a member of the account"),
}


# --- Destinations --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List an account's destinations (members)",
        responses={200: DestinationOutputSerializer(many=True), **ERROR_RESPONSES},
    ),
    create=extend_schema(
        summary="Create a destination (account Admins)",
        request=DestinationInputSerializer,
        responses={201: DestinationOutputSerializer, **ERROR_RESPONSES},
    ),
)
@extend_schema(tags=["destinations"])
class AccountDestinationViewSet(viewsets.GenericViewSet):
    """`/accounts/{account_id}/destinations/`: members list, Admins create."""

    queryset = Destination.objects.none()
    serializer_class = DestinationOutputSerializer

    def get_queryset(self):
        return selectors.destination_list(account_id=self.kwargs["account_id"])

    def list(self, request, account_id: int):
        membership = require_membership(user=request.user, account_id=account_id)
        page = self.paginate_queryset(self.get_queryset())
        context = {"show_secret": membership.is_admin}
        data = DestinationOutputSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    def create(self, request, account_id: int):
        membership = require_membership(user=request.user, account_id=account_id)
        require_admin(membership, "create destinations")
        serializer = DestinationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        destination = services.destination_create(
            account=membership.account, user=request.user, **serializer.validated_data
        )
        data = DestinationOutputSerializer(destination, context={"show_secret": True}).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    retrieve=extend_schema(
        summary="A destination (members)",
        responses={200: DestinationOutputSerializer, **ERROR_RESPONSES},
    ),
    update=extend_schema(
        summary="Update a destination (members)",
        request=DestinationInputSerializer,
        responses={200: DestinationOutputSerializer, **ERROR_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="Update some fields of a destination (members); is_active=true re-queues held logs",
        request=DestinationInputSerializer(partial=True),
        responses={200: DestinationOutputSerializer, **ERROR_RESPONSES},
    ),
    destroy=extend_schema(
        summary="Delete a destination (account Admins)",
        responses={204: None, **ERROR_RESPONSES},
    ),
)
@extend_schema(tags=["destinations"])
class DestinationViewSet(viewsets.GenericViewSet):
    """`/destinations/{id}/`: members view and update; Admins delete and rotate the secret."""

    queryset = Destination.objects.none()
    serializer_class = DestinationOutputSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        # Only destinations of the caller's accounts exist for the caller: others answer 404.
        return Destination.objects.filter(
            account_id__in=memberships_of(user=self.request.user).values("account_id")
        )

    def _object_and_membership(self):
        destination = self.get_object()
        membership = require_membership(user=self.request.user, account_id=destination.account_id)
        return destination, membership

    def _render(self, destination, membership):
        context = {"show_secret": membership.is_admin}
        return Response(DestinationOutputSerializer(destination, context=context).data)

    def retrieve(self, request, pk=None):
        return self._render(*self._object_and_membership())

    def update(self, request, pk=None, partial=False):
        destination, membership = self._object_and_membership()
        serializer = DestinationInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        destination = services.destination_update(
            destination=destination, user=request.user, data=serializer.validated_data
        )
        return self._render(destination, membership)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        destination, membership = self._object_and_membership()
        require_admin(membership, "delete destinations")
        services.destination_delete(destination=destination)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rotate the signing secret (account Admins); the new secret is returned",
        description=(
            "The old secret keeps signing too for `grace_seconds` (default 86400, at most 604800; "
            "0 ends it at once): deliveries carry `v1,<new> v1,<old>` in `webhook-signature` until "
            "`previous_secret_expires_at`."
        ),
        request=RotateSecretInputSerializer,
        responses={200: DestinationOutputSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        destination, membership = self._object_and_membership()
        require_admin(membership, "rotate signing secrets")
        serializer = RotateSecretInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        destination = services.destination_rotate_secret(
            destination=destination,
            user=request.user,
            grace_seconds=serializer.validated_data["grace_seconds"],
        )
        return self._render(destination, membership)

    @extend_schema(
        summary="Delivery stats of a destination over a window (members)",
        description=(
            "Deliveries by outcome (logs of the events received in the window), attempt counts, "
            "success rate and latency percentiles (attempts made in the window), the last "
            "success and failure, the circuit breaker, the backlog, and a series for a chart: "
            "one bucket per hour (per day for `7d`)."
        ),
        parameters=[
            OpenApiParameter(
                "window", OpenApiTypes.STR, enum=["1h", "24h", "7d"], description="Default 24h."
            )
        ],
        responses={200: DestinationStatsSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        destination, _membership = self._object_and_membership()
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            destination_stats(destination=destination, window_name=query.validated_data["window"])
        )

    @extend_schema(
        summary="Send a test ping (a signed system.test event) to this destination (Admins)",
        description=(
            "Stores a `system.test` event (payload `destination_id`, `sent_at`) with one log for "
            "this destination only; the delivery engines send it like any delivery."
        ),
        request=None,
        responses={
            202: TestPingOutputSerializer,
            409: OpenApiResponse(description="The destination is disabled"),
            **ERROR_RESPONSES,
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        destination, membership = self._object_and_membership()
        require_admin(membership, "send test pings")
        try:
            log = services.destination_test_ping(destination=destination)
        except services.DestinationDisabled:
            raise DestinationDisabledError from None
        return Response(
            {"event_id": log.event.event_id, "log_id": log.pk}, status=status.HTTP_202_ACCEPTED
        )


class DestinationDisabledError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The destination is disabled: enable it to send a test ping."
    default_code = "destination_disabled"


# --- Logs ----------------------------------------------------------------------------------------

LOG_FILTER_PARAMETERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=DeliveryLog.Status.values),
    OpenApiParameter("event_id", OpenApiTypes.STR),
    OpenApiParameter("event_type", OpenApiTypes.STR),
    OpenApiParameter("destination_id", OpenApiTypes.INT),
    OpenApiParameter("received_timestamp__gte", OpenApiTypes.DATETIME),
    OpenApiParameter("received_timestamp__lte", OpenApiTypes.DATETIME),
]


@extend_schema(tags=["logs"])
class AccountDeliveryLogViewSet(viewsets.GenericViewSet):
    """`/accounts/{account_id}/logs/`: members list (cached), Admins replay in bulk."""

    queryset = DeliveryLog.objects.none()
    serializer_class = DeliveryLogSerializer
    filterset_class = DeliveryLogFilter

    def get_queryset(self):
        return selectors.delivery_log_list(account_id=self.kwargs["account_id"])

    @extend_schema(
        summary="List an account's delivery logs (members; cached 5 minutes)",
        parameters=LOG_FILTER_PARAMETERS,
        responses={200: DeliveryLogSerializer(many=True), **ERROR_RESPONSES},
    )
    def list(self, request, account_id: int):
        require_membership(user=request.user, account_id=account_id)
        # The key carries the account's logs version: any log change makes old pages unreachable.
        cache_key = logs_page_cache_key(
            account_id=account_id, full_path=request.get_full_path(), host=request.get_host()
        )
        cached = logs_page_get(cache_key)
        if cached is not None:
            return Response(cached)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        response = self.get_paginated_response(DeliveryLogSerializer(page, many=True).data)
        logs_page_set(cache_key, response.data)
        return response

    @extend_schema(
        summary="Re-queue failed or held logs in bulk (account Admins)",
        request=ReplayInputSerializer,
        responses={200: ReplayOutputSerializer, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["post"])
    def replay(self, request, account_id: int):
        membership = require_membership(user=request.user, account_id=account_id)
        require_admin(membership, "replay logs")
        serializer = ReplayInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        destination_id = data.get("destination_id")
        if (
            destination_id is not None
            and not selectors.destination_list(account_id=account_id)
            .filter(pk=destination_id)
            .exists()
        ):
            raise exceptions.NotFound("No such destination in this account.")
        count = services.delivery_logs_replay(
            account=membership.account,
            status=data["status"],
            received_gte=data.get("received_timestamp__gte"),
            received_lte=data.get("received_timestamp__lte"),
            destination_id=destination_id,
        )
        return Response({"requeued": count})


@extend_schema(tags=["logs"])
class DeliveryLogViewSet(viewsets.GenericViewSet):
    """`/logs/{id}/`: members view a log with its attempts; Admins retry it."""

    queryset = DeliveryLog.objects.none()
    serializer_class = DeliveryLogDetailSerializer
    lookup_value_regex = r"\d+"
    # The payload as it was received (`19.90`, not a re-printed `19.9`).
    renderer_classes = [RawJSONRenderer, BrowsableAPIRenderer]

    def get_queryset(self):
        return (
            DeliveryLog.objects.filter(
                account_id__in=memberships_of(user=self.request.user).values("account_id")
            )
            .select_related("event", "destination")
            .prefetch_related("attempt_set")
        )

    @extend_schema(
        summary="A delivery log with its payload and attempts (members)",
        responses={200: DeliveryLogDetailSerializer, **ERROR_RESPONSES},
    )
    def retrieve(self, request, pk=None):
        return Response(DeliveryLogDetailSerializer(self.get_object()).data)

    @extend_schema(
        summary="Retry a failed or held log (account Admins)",
        request=None,
        responses={
            200: DeliveryLogDetailSerializer,
            409: OpenApiResponse(description="The log is not failed or held"),
            **ERROR_RESPONSES,
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        log = self.get_object()
        membership = require_membership(user=request.user, account_id=log.account_id)
        require_admin(membership, "retry logs")
        log = services.delivery_log_retry(log=log)
        return Response(DeliveryLogDetailSerializer(selectors.delivery_log_get(log_id=log.pk)).data)


@extend_schema(tags=["compat"])
class CompatAccountDestinationViewSet(AccountDestinationViewSet):
    """Seed 003: `/accounts/{account_id}/destinations/`."""

    schema = compat_schema(AccountDestinationViewSet)


@extend_schema(tags=["compat"])
class CompatDestinationViewSet(DestinationViewSet):
    """Seed 003: `/destinations/{id}/`."""

    schema = compat_schema(DestinationViewSet)


@extend_schema(tags=["compat"])
class CompatAccountDeliveryLogViewSet(AccountDeliveryLogViewSet):
    """Seed 003: `/accounts/{account_id}/logs/`."""

    schema = compat_schema(AccountDeliveryLogViewSet)
