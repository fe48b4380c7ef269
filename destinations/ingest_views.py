"""Ingest endpoint: `POST /incoming-data/` (canonical) and `POST /server/incoming_data/` (seed 003).

The request path is small on purpose: resolve the caller (`IngestCallerPermission`), check the
headers and the body, store the event (`destinations.pipeline.ingest.event_ingest`). The fan-out and the
deliveries are the worker's.
"""

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.exceptions import PayloadTooLarge
from backend.common.schema import compat_schema
from destinations import metrics
from destinations.permissions import IngestCallerPermission
from destinations.pipeline.event_types import validate_ingest_event_type
from destinations.pipeline.ingest import event_ingest
from destinations.pipeline.payloads import PayloadError, parse_ingest_body
from destinations.serializers import IngestResponseSerializer
from destinations.throttling import IngestRateThrottle
from endpoints.permissions import ApiKeyScopePermission

EVENT_ID_HEADER = "CL-X-EVENT-ID"
EVENT_TYPE_HEADER = "CL-X-EVENT-TYPE"
MAX_EVENT_ID_LENGTH = 255
# The credentials ingest really takes (a JWT or a session alone gets 401): CL-X-TOKEN (seed 003
# may add a member's JWT beside it), an API key or an OAuth2 token with `ingest`. Security
# requirement objects (drf-spectacular's `auth` takes them; its type hint says names only).
INGEST_SECURITY: Any = [
    {"clXToken": []},
    {"clXToken": [], "jwtAuth": []},
    {"ApiKeyAuth": []},
    {"oauth2": ["ingest"]},
]


@extend_schema(
    tags=["ingest"],
    summary="Send data to every destination of the account",
    description=(
        "Authenticate with the account's `CL-X-TOKEN` header, or an API key bound to the account "
        "with the `ingest` scope. The body is any JSON object. `CL-X-EVENT-ID` (optional, at most "
        "255 characters) makes the call idempotent: a repeat answers 200 with `duplicate: true` and "
        "is not delivered again. Delivery happens in the background."
    ),
    request={"application/json": OpenApiTypes.OBJECT},
    auth=INGEST_SECURITY,
    parameters=[
        OpenApiParameter(EVENT_ID_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER),
        OpenApiParameter(
            EVENT_TYPE_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="1 to 100 of A-Z a-z 0-9 _ . : - (e.g. order.created); system.* is reserved",
        ),
    ],
    responses={
        200: IngestResponseSerializer,
        400: OpenApiResponse(description="Not a JSON object, or a bad CL-X-EVENT-ID"),
        401: OpenApiResponse(description="Missing or invalid CL-X-TOKEN / credentials"),
        403: OpenApiResponse(description="API key without account or ingest scope"),
        413: OpenApiResponse(description="Body larger than INGEST_MAX_BODY_BYTES"),
        429: OpenApiResponse(description="Rate limited (Retry-After)"),
    },
)
class IngestView(APIView):
    """`POST /incoming-data/` (canonical) and `POST /server/incoming_data/` (seed 003)."""

    # The authentication classes verify what the request carries; the credentials' state is
    # checked in one cache round trip by IngestCallerPermission (destinations/ingest_auth.py).
    credential_checks_deferred = True
    permission_classes = [IngestCallerPermission, ApiKeyScopePermission]
    throttle_classes = [IngestRateThrottle]
    required_api_key_scope = "ingest"

    def initial(self, request, *args, **kwargs):
        # Refuse an announced oversized body before authenticating or reading anything.
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            declared_size = int(declared)
        except ValueError:
            declared_size = 0
        if declared_size > settings.INGEST_MAX_BODY_BYTES:
            metrics.INGEST_REQUESTS.labels("rejected").inc()
            raise PayloadTooLarge(
                f"The body is larger than {settings.INGEST_MAX_BODY_BYTES} bytes."
            )
        try:
            super().initial(request, *args, **kwargs)
        except exceptions.APIException:
            metrics.INGEST_REQUESTS.labels("rejected").inc()
            raise

    def post(self, request):
        try:
            body, event_id, event_type = self._read(request)
        except exceptions.APIException:
            metrics.INGEST_REQUESTS.labels("rejected").inc()
            raise
        event, created = event_ingest(
            account_id=request.ingest_account_id,
            body=body,
            event_id=event_id,
            event_type=event_type,
        )
        answer = {"message": "Data Received", "event_id": event.event_id}
        if not created:
            answer["duplicate"] = True
        metrics.INGEST_REQUESTS.labels("accepted" if created else "duplicate").inc()
        if (
            type(request.accepted_renderer) is JSONRenderer
            and request.accepted_media_type == JSONRenderer.media_type
        ):
            # The bytes and header DRF's JSONRenderer writes, without its Response and
            # template-response machinery (about 8 % of a warm ingest call's CPU under py-spy).
            body = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
            return HttpResponse(body, content_type=JSONRenderer.media_type)
        return Response(answer, status=status.HTTP_200_OK)  # the browsable API, `indent=`...

    def _read(self, request) -> tuple[str, str | None, str]:
        """The body as sent (JSON object text), the event id and type; 400/413 otherwise."""
        event_id = request.headers.get(EVENT_ID_HEADER)
        if event_id is not None:
            event_id = event_id.strip()
            if not event_id or len(event_id) > MAX_EVENT_ID_LENGTH or not event_id.isprintable():
                raise exceptions.ValidationError(
                    {EVENT_ID_HEADER: [f"Must be 1 to {MAX_EVENT_ID_LENGTH} printable characters."]}
                )
        event_type = request.headers.get(EVENT_TYPE_HEADER)
        if event_type is not None:
            try:
                event_type = validate_ingest_event_type(event_type.strip())
            except DjangoValidationError as exc:
                raise exceptions.ValidationError({EVENT_TYPE_HEADER: exc.messages}) from exc
        raw = request.body  # Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE) applies first
        if len(raw) > settings.INGEST_MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"The body is larger than {settings.INGEST_MAX_BODY_BYTES} bytes."
            )
        try:
            parsed = parse_ingest_body(raw)
        except PayloadError as exc:
            raise exceptions.ValidationError({"body": [exc.message]}) from exc
        return parsed.text, event_id, event_type or ""


@extend_schema(tags=["compat"])
class CompatIngestView(IngestView):
    """Seed 003: `POST /server/incoming_data/`."""

    schema = compat_schema(IngestView)
