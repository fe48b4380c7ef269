"""Request body caps, enforced before anything reads or parses the body (SPEC section 7).

Every JSON or form body is capped at API_MAX_BODY_BYTES (64 KiB); the paths in
LARGE_BODY_PATHS (ingest) have their own cap; multipart uploads are left to the upload's own
checks (Django's DATA_UPLOAD_MAX_MEMORY_SIZE for fields, e.g. AVATAR_MAX_BYTES for files).
A declared Content-Length over the cap is refused without reading; a chunked body (no length)
is read up to cap + 1 bytes, refused if longer, else handed on as a body of known length.
"""

import io
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from backend.common.exceptions import error_response


def body_cap(request: HttpRequest) -> int | None:
    """The byte cap of this request's body, or None when another check owns it."""
    content_type = request.META.get("CONTENT_TYPE", "").lower()
    if content_type.startswith("multipart/form-data"):
        return None
    path = request.path_info.rstrip("/") + "/"
    for prefix, setting_name in settings.LARGE_BODY_PATHS.items():
        if path == prefix:
            cap: int = getattr(settings, setting_name)
            return cap
    default_cap: int = settings.API_MAX_BODY_BYTES
    return default_cap


def _too_large(cap: int) -> JsonResponse:
    return error_response(413, f"The request body is larger than {cap} bytes.", {"max_bytes": cap})


class BodySizeLimitMiddleware:
    """413 JSON for a body over its cap, before CSRF, DRF or a view looks at it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        cap = body_cap(request)
        if cap is not None:
            refused = self._check(request, cap)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def _check(request: HttpRequest, cap: int) -> JsonResponse | None:
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                size = int(declared)
            except ValueError:
                return error_response(400, "The Content-Length header is not a number.")
            return _too_large(cap) if size > cap else None
        if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return None  # no body
        stream = getattr(request, "environ", {}).get("wsgi.input")
        if stream is None:
            return None
        body = stream.read(cap + 1)
        if len(body) > cap:
            return _too_large(cap)
        # Django reads CONTENT_LENGTH bytes of the stream: give it the body we already read.
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = io.BytesIO(body)
        return None
