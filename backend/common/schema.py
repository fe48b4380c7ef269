"""The schema class of every view: each operation documents the errors it can answer.

The error responses are derived from what the view really does (its permission, throttle and
authentication classes, the method and the path) so no view has to list them by hand; any
response a view declares itself (with `@extend_schema(responses=...)`) is kept as it is.
"""

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

from backend.common.serializers import StrictFieldsMixin

T = TypeVar("T")
BODY_METHODS = {"POST", "PUT", "PATCH"}

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `details` names each field or parameter.",
    401: "Authentication credentials were not provided or are invalid.",
    403: "You do not have permission to perform this action.",
    404: "Not found (or not visible to you).",
    406: "The requested response format is not available.",
    413: "The request body is too large.",
    429: "Too many requests (Retry-After says when to try again).",
}


class ErrorSerializer(serializers.Serializer[Any]):
    """The API's one error shape."""

    error = serializers.CharField(help_text="One sentence for people.")
    details = serializers.DictField(help_text="Per field or parameter: a list of messages.")

    class Meta:
        ref_name = "Error"


def error_response(status_code: int) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS[status_code])


def _safe(call: Callable[[], T], default: T) -> T:
    # Schema generation runs views without a real request: a view whose hook needs one is
    # documented with the defaults rather than breaking the whole schema.
    try:
        return call()
    except Exception:  # noqa: BLE001
        return default


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema plus the error responses each operation can return, and
    request bodies that say they refuse unknown fields (StrictFieldsMixin) the way the API does,
    so a client generated from the schema sends what the API accepts."""

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)  # type: ignore[no-untyped-call]
        instance = force_instance(serializer)  # type: ignore[no-untyped-call]
        if direction == "request" and isinstance(instance, StrictFieldsMixin):
            schema["additionalProperties"] = False
        return schema

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status_code in self.error_status_codes():
            code = str(status_code)
            if code not in responses:
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    error_response(status_code), code, direction=direction
                )
        return responses

    def error_status_codes(self) -> list[int]:
        view = self.view
        perms: Sequence[object] = _safe(view.get_permissions, [])
        throttles: Sequence[object] = _safe(view.get_throttles, [])
        open_to_all = all(isinstance(p, permissions.AllowAny) for p in perms)
        has_body = self.method in BODY_METHODS
        codes = set()
        if has_body or self._has_checked_query_parameters():
            codes.add(400)
        if not open_to_all:
            codes.add(401)
            if any(not _is_plain_authenticated(p) for p in perms):
                codes.add(403)
        if "{" in self.path:
            codes.add(404)
        if has_body:
            codes.add(413)
        if throttles:
            codes.add(429)
        if not codes:
            # Every DRF view negotiates its renderer: an unsatisfiable Accept header is a 406.
            codes.add(406)
        return sorted(codes)

    def _has_checked_query_parameters(self) -> bool:
        # A FilterSet or declared query parameters (parsed by hand, checked by `query_text`).
        if getattr(self.view, "filterset_class", None) is not None:
            return True
        declared: Sequence[object] = _safe(self.get_override_parameters, [])
        return any(getattr(parameter, "location", None) == "query" for parameter in declared)


def _is_plain_authenticated(permission: object) -> bool:
    return type(permission) in (permissions.IsAuthenticated, permissions.AllowAny)


class _CompatOperationIdMixin:
    """Compat routes share views with the canonical ones: prefix their operation ids."""

    def get_operation_id(self) -> str:
        return f"compat_{super().get_operation_id()}"  # type: ignore[misc]


def compat_schema(view_class: type | None = None) -> AutoSchema:
    """The schema of a compat route: the canonical view's (extended) schema class, with compat
    operation ids (both routes are in the schema, so their ids must differ)."""
    base = type(view_class.__dict__.get("schema") or AutoSchema()) if view_class else AutoSchema
    schema_class = type(f"Compat{base.__name__}", (_CompatOperationIdMixin, base), {})
    return schema_class()  # type: ignore[no-any-return]


# Request properties that the password validators check (AUTH_PASSWORD_VALIDATORS).
NEW_PASSWORD_FIELDS = {"password", "password_confirm", "new_password", "new_password_confirm"}
LOGIN_OPERATION_HINTS = ("login", "token")


def state_password_rules(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Postprocessing hook: a new password's minimum length, as the validators enforce it, so a
    generated client does not send one that is refused (login bodies take any password)."""
    from django.contrib.auth.password_validation import get_default_password_validators

    minimum = max(
        (getattr(v, "min_length", 0) for v in get_default_password_validators()), default=0
    )
    if not minimum:
        return result
    login_components = {
        ref.rsplit("/", 1)[-1]
        for path, item in result.get("paths", {}).items()
        if any(hint in path for hint in LOGIN_OPERATION_HINTS)
        for operation in item.values()
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if (ref := media.get("schema", {}).get("$ref"))
    }
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request") or name in login_components:
            continue
        for field, schema in component.get("properties", {}).items():
            if field in NEW_PASSWORD_FIELDS and schema.get("type") == "string":
                schema["minLength"] = max(schema.get("minLength", 0), minimum)
    return result
