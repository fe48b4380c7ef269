"""Content Security Policy per kind of response (django-csp).

- JSON and every other non-HTML answer: nothing may load (`default-src 'none'`), no framing.
- HTML pages (admin, allauth, browsable API, OAuth2 pages): this site only.
- The API docs (Swagger UI, ReDoc): this site only, plus what the two UIs need to run: inline
  styles (both set style attributes; ReDoc injects <style> tags), data: images and fonts, and
  blob: workers (ReDoc's search index).
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class PathAwareCSPMiddleware(CSPMiddleware):
    """django-csp's middleware choosing the policy by response type and path."""

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
