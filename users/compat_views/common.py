"""Schema helpers shared by the seeds' identity routes (tag `compat`)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

REFRESH_HEADER = OpenApiParameter(
    "X-Refresh-Token",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The refresh token (or send `refresh_token` in the body).",
)


def compat_schema(operation_id: str, summary: str, **kwargs):
    return extend_schema(tags=["compat"], operation_id=operation_id, summary=summary, **kwargs)
