"""The project's handler500: a database outage is a 503 with Retry-After, not a crash."""

import sys
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from backend.common.exceptions import database_unavailable_response, is_database_unavailable


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Errors raised outside views (middleware: sessions, auth) end here, inside the except."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_unavailable(exc):
        return database_unavailable_response()
    return defaults.server_error(request, *args, **kwargs)
