"""Content Security Policy per kind of response (django-csp).

- JSON and every other non-HTML answer: nothing may load (`default-src 'none'`), no framing.
- HTML pages (admin, allauth, browsable API, OAuth2 pages): this site only.
- The API docs (Swagger UI, ReDoc): this site only, plus what the two UIs need to run: inline
  styles (both set style attributes; ReDoc injects <style> tags), data: images and fonts, and
  blob: workers (ReDoc's search index).
"""

from functools import cached_property

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# What a view's @csp_* decorators and a nonce leave on the response or request: with none of
# them, a JSON answer's policy is always the same string.
_RESPONSE_OVERRIDES = tuple(
    f"_csp_{part}{suffix}" for part in ("config", "update", "replace") for suffix in ("", "_ro")
)


class PathAwareCSPMiddleware(CSPMiddleware):
    """django-csp's middleware choosing the policy by response type and path.

    A plain JSON answer gets the JSON policy built once (django-csp builds the header again for
    every response: about 4 % of a warm ingest call's CPU under py-spy); anything else, or any
    response a view's decorators touched, goes through django-csp as before."""

    @cached_property
    def json_policy(self) -> str:
        return build_policy(config=settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            "text/html" in response.get("Content-Type", "")
            or HEADER in response
            or settings.DEBUG  # django-csp leaves DEBUG's 404 and 500 pages alone
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or settings.CONTENT_SECURITY_POLICY.get("EXCLUDE_URL_PREFIXES")
            or getattr(request, "_csp_nonce", None) is not None
            or getattr(response, "_csp_exempt", False)
            or any(getattr(response, name, None) is not None for name in _RESPONSE_OVERRIDES)
        ):
            return super().process_response(request, response)
        response[HEADER] = self.json_policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if report_only or parts.config is not None:  # a view's own @csp_override wins
            return parts
        if "text/html" not in response.get("Content-Type", ""):
            parts.config = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        elif request.path_info.startswith(settings.CSP_DOCS_PATH_PREFIXES):
            parts.config = settings.CSP_DOCS_DIRECTIVES
        else:
            parts.config = settings.CSP_HTML_DIRECTIVES
        return parts
