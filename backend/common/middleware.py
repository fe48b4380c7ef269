"""Request ids and JSON errors for every API path, including errors raised outside DRF."""

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.http.response import HttpResponseBase
from django.middleware import common as django_common
from django.utils.http import escape_leading_slashes

from backend.common.exceptions import (
    STATUS_SENTENCES,
    database_unavailable_response,
    error_response,
    is_database_unavailable,
    retry_after_seconds,
)
from backend.common.request_id import current_request_id

logger = logging.getLogger("backend.request")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes a sane `X-Request-ID` from the caller or makes one; echoes it on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # our per-request attribute
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def is_api_path(path: str) -> bool:
    """Every path answers JSON errors except the HTML pages (admin, docs, browser logins)."""
    return not path.startswith(settings.HTML_PATH_PREFIXES) and not _is_allauth_page(path)


def _is_allauth_page(path: str) -> bool:
    # allauth's pages live under /accounts/<word>/ while the accounts API uses /accounts/<id>/.
    if not path.startswith("/accounts/"):
        return False
    rest = path[len("/accounts/") :]
    return bool(rest) and not rest[0].isdigit() and not re.match(r"^[0-9a-f-]{36}/", rest)


class JsonErrorMiddleware:
    """Turns HTML or empty error responses on API paths into the API's JSON error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code == 503 and not response.has_header("Retry-After"):
            # Every 503 says when to come back (a view's own 503, e.g. /health/ with a component down).
            response["Retry-After"] = str(retry_after_seconds())
        if response.status_code < 400 or not is_api_path(request.path):
            return response
        content_type = response.get("Content-Type", "")
        if "json" in content_type:
            return response
        message = STATUS_SENTENCES.get(response.status_code, "Error.")
        if response.status_code == 404:
            message = f"No API route matches {request.method} {request.path}."
        elif response.status_code == 500:
            message = (
                "Internal server error. Quote request id "
                f"{request.request_id} when reporting it."  # type: ignore[attr-defined]  # set by RequestIdMiddleware
            )
        json_response = error_response(response.status_code, message)
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "X-Request-ID"):
            if header in response:
                json_response[header] = response[header]
        return json_response

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if not is_api_path(request.path):
            return None
        if isinstance(exception, RequestDataTooBig):
            return error_response(413)
        if is_database_unavailable(exception):
            logger.warning("Database unavailable on %s %s", request.method, request.path)
            return database_unavailable_response()
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(
            500,
            f"Internal server error. Quote request id {request.request_id} when reporting it.",  # type: ignore[attr-defined]  # set by RequestIdMiddleware
        )


class PermanentRedirectPreservingMethod(HttpResponsePermanentRedirect):
    status_code = 308


class CommonMiddleware(django_common.CommonMiddleware):
    """Django's CommonMiddleware, but APPEND_SLASH answers 308 so a POST keeps its body.

    Django answers 301, which clients follow with a GET and an empty body (and raises in DEBUG
    for POST); 308 tells them to repeat the same method and body at the slashed URL.
    """

    response_redirect_class = PermanentRedirectPreservingMethod

    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        new_path = request.get_full_path(force_append_slash=True)
        return escape_leading_slashes(new_path)
