"""JWT authentication for DRF."""

from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's authentication (Bearer or Token header)."""
