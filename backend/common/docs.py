"""Swagger UI and ReDoc that load nothing from the internet and run under a strict CSP.

drf-spectacular's ReDoc page pulls Google Fonts and runs an inline script, and the sidecar's
ReDoc bundle shows a logo from cdn.redoc.ly: here the page loads only local files, and the bundle
is served with that logo replaced by a local one. Swagger UI uses the split view (no inline
script).
"""

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from drf_spectacular.views import SpectacularRedocView

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
# The only remote resources the bundle loads on its own (everything else in it is a link or an
# identifier, never fetched).
REDOC_REMOTE_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
SOURCE_MAP_COMMENT = b"//# sourceMappingURL=redoc.standalone.js.map"


class RedocView(SpectacularRedocView):
    """ReDoc on a local page: local bundle, local init script, no web fonts."""

    template_name = "docs/redoc.html"

    @staticmethod
    def _redoc_standalone() -> str:
        return reverse("redoc-bundle")


@lru_cache(maxsize=1)
def _patched_redoc_bundle() -> bytes:
    path = finders.find(REDOC_BUNDLE)
    if not path:
        raise Http404("ReDoc bundle not installed.")
    with open(path, "rb") as bundle:
        code = bundle.read()
    code = code.replace(REDOC_REMOTE_LOGO, static("docs/redoc-logo.svg").encode())
    return code.replace(SOURCE_MAP_COMMENT, b"")


def redoc_bundle(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_patched_redoc_bundle(), content_type="text/javascript")
    response["Cache-Control"] = "public, max-age=3600"
    return response
