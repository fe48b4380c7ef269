"""JSON that carries a stored JSON text as it was received (e.g. `19.90`, not `19.9`).

A serializer puts `RawJSON(text, parsed)` where the value goes: Python code (tests, `.data`) sees
`parsed`, an ordinary dict; `RawJSONRenderer` writes `text` itself into the response, so the API
shows exactly the bytes the sender sent instead of a re-parsed and re-printed copy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import JSONRenderer


def _refuse_constant(name: str) -> None:
    raise ValueError(name)


def is_strict_json_object(text: str) -> bool:
    """True when `text` can be spliced into a JSON response as it is: an object in strict JSON
    (no NaN/Infinity) that encodes to UTF-8."""
    try:
        text.encode("utf-8")
        return isinstance(json.loads(text, parse_constant=_refuse_constant), dict)
    except (ValueError, UnicodeError, RecursionError):
        return False


class RawJSON(dict[str, Any]):
    """A JSON object that renders as its original text (see the module docstring)."""

    def __init__(self, text: str, parsed: dict[str, Any]) -> None:
        super().__init__(parsed)
        self.text = text


class RawJSONRenderer(JSONRenderer):
    """JSONRenderer that writes each RawJSON value's own text."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        raw_texts: dict[str, str] = {}
        marker = uuid.uuid4().hex

        def swap(value: Any) -> Any:
            if isinstance(value, RawJSON):
                token = f"raw-json-{marker}-{len(raw_texts)}"
                raw_texts[token] = value.text
                return token
            if isinstance(value, dict):
                return {key: swap(item) for key, item in value.items()}
            if isinstance(value, list):
                return [swap(item) for item in value]
            return value

        rendered = super().render(swap(data), accepted_media_type, renderer_context)
        for token, text in raw_texts.items():
            rendered = rendered.replace(json.dumps(token).encode(), text.encode("utf-8"), 1)
        return rendered
