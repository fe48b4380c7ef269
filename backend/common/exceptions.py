"""One error shape for the whole API: `{"error": "<sentence>", "details": {field: [messages]}}`.

`exception_handler` is DRF's EXCEPTION_HANDLER; `error_response` is used by the middleware for
errors raised outside DRF (unknown URLs, oversized bodies, crashes) so both produce one shape.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from backend.common.request_id import current_request_id

logger = logging.getLogger(__name__)


class ApplicationError(exceptions.APIException):
    """A domain failure with a human message and optional per-field details (400 by default)."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = "The request could not be completed."
    default_code = "application_error"

    def __init__(
        self,
        message: str | None = None,
        extra: dict[str, Any] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(detail=message or self.default_detail)
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


STATUS_SENTENCES = {
    400: "The request is invalid.",
    401: "Authentication credentials were not provided or are invalid.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    406: "The requested response format is not available.",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    429: "Too many requests.",
    500: "Internal server error.",
    503: "Service unavailable.",
}


def error_body(message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": message, "details": details or {}}


def error_response(
    status_code: int, message: str | None = None, details: dict[str, Any] | None = None
) -> JsonResponse:
    """A plain Django JSON error response in the API's shape (for non-DRF code paths)."""
    body = error_body(message or STATUS_SENTENCES.get(status_code, "Error."), details)
    return JsonResponse(body, status=status_code)


DATABASE_UNAVAILABLE = "The database is unavailable. Retry in a few seconds."


def is_database_unavailable(exc: BaseException) -> bool:
    """A lost or refused database connection (or a server that cannot serve now): a 503."""
    return isinstance(exc, DatabaseOperationalError | DatabaseInterfaceError)


def retry_after_seconds() -> int:
    return int(getattr(settings, "DEPENDENCY_RETRY_AFTER_SECONDS", 5))


def database_unavailable_response() -> JsonResponse:
    response = error_response(503, DATABASE_UNAVAILABLE)
    response["Retry-After"] = str(retry_after_seconds())
    return response


def _first_message(details: dict[str, Any]) -> str | None:
    for field, messages in details.items():
        first = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(first, dict):
            nested = _first_message(first)
            if nested:
                return f"{field}.{nested}"
            continue
        if field in ("non_field_errors", "__all__"):
            return str(first)
        return f"{field}: {first}"
    return None


def _validation_details(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {k: (v if isinstance(v, list | dict) else [v]) for k, v in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler that renders every error in the API's one shape."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if is_database_unavailable(exc):
        logger.warning("Database unavailable: %s", type(exc).__name__)
        return Response(
            error_body(DATABASE_UNAVAILABLE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(retry_after_seconds())},
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        request_id = current_request_id.get()
        return Response(
            error_body(f"Internal server error. Quote request id {request_id} when reporting it."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.ValidationError):
        details = _validation_details(exc.detail)
        first = _first_message(details)
        message = f"Invalid input: {first}" if first else "Invalid input."
    elif isinstance(exc, exceptions.ParseError):
        details, message = {}, "Malformed request body: it is not valid JSON."
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict):
            details = _validation_details(detail)
            message = str(detail.get("detail") or _first_message(details) or "Error.")
            details.pop("detail", None)
        elif isinstance(detail, list):
            details, message = {}, " ".join(str(d) for d in detail)
        else:
            details, message = {}, str(detail)
        if isinstance(exc, ApplicationError):
            details = {**details, **exc.extra}
    response.data = error_body(message, details)
    return response
