"""Parts shared by the identity app's views: documented error answers, the public-credentials
base view, and scoped throttles.
"""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions
from rest_framework.views import APIView

from backend.common.throttling import ScopedRateThrottle
from users.serializers.common import IdentityErrorSerializer

AUTH_HEADER = 'Bearer realm="api"'


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=IdentityErrorSerializer, description=description)


ERROR_400 = _error("Invalid input (the details name each field).")


ERROR_401 = _error("Authentication credentials were not provided or are invalid.")


ERROR_403 = _error("You do not have permission to perform this action.")


ERROR_429 = _error("Too many failed login attempts (Retry-After says when to try again).")


ERROR_402 = _error("Insufficient credits (nothing was debited).")


ERROR_404 = _error("Not found (or not yours).")


ERROR_409 = _error("The reference was already used with a different amount.")


ERROR_THROTTLED = _error("Too many requests (Retry-After says when to try again).")


ERROR_502 = _error("The payment provider failed.")


ERROR_503 = _error("Payments are not configured on this server.")


class PublicAuthView(APIView):
    """An endpoint that takes credentials in its body: a stale Authorization header is ignored.

    401s still carry `WWW-Authenticate` (DRF would otherwise turn them into 403).
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get_authenticate_header(self, request):
        return AUTH_HEADER


# The default throttles plus the view's own `throttle_scope` rate.
SCOPED_THROTTLES = [*APIView.throttle_classes, ScopedRateThrottle]
