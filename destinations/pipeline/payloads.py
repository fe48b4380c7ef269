"""Ingest bodies: kept byte-exact for the receiver, parsed only for filters, refused when hostile.

`parse_ingest_body(raw)` returns the body twice:
- `text`: the body decoded as UTF-8, unchanged. `text.encode("utf-8") == raw`, so storing it in a
  TEXT column and sending `text.encode()` relays exactly what the sender sent (key order, spacing,
  number spelling). PostgreSQL TEXT accepts every such string: the only character it refuses is
  NUL, and a raw NUL can never be in valid JSON (the escape `\\u0000` is six ASCII characters).
- `data`: the parsed object, for `destinations.pipeline.rules.matches` only. Integers are `int`, other
  numbers `Decimal` (so `12345678901234567890.123456789` and `1e400` keep their value); strings
  may hold lone surrogates (`"\\ud800"`) and NUL characters. Never write `data` to a `jsonb`
  column (PostgreSQL refuses `\\u0000` and such numbers there) or send it: relay `text`.

Refused, each with a `PayloadError` (a `ValueError`; the view answers 400 with its message):
not UTF-8, a byte order mark, empty, not JSON, a top level that is not an object, `NaN` /
`Infinity` / `-Infinity` (not JSON, RFC 8259 section 6), a number outside the range of Python's
Decimal (an exponent beyond about 10**18), and nesting deeper than `MAX_DEPTH` levels. The depth
is measured on the text before parsing, so no body can make the parser recurse past it.

`payload_for_api(text)` renders a stored body for the log detail's `payload` field: the same JSON
value as plain Python objects that DRF's JSON renderer always encodes (strict JSON, UTF-8):
- integers stay `int` (exact at any size; above Python's 4300-digit limit, the digits as a string);
- a number with a fraction or exponent becomes a `float` when the float prints as the same
  decimal value (`0.1`, `2.5`, `1e3` -> `1000.0`); otherwise (`1e400`, or more digits than a double
  holds) it is the number's exact text as a JSON string, so the API never shows a changed number;
- lone surrogates in strings and keys become U+FFFD (UTF-8 cannot encode them); the relayed
  body still carries the original escape.
"""

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64

# A JSON string with its escapes, or an unterminated one up to the end of the text. It matches at
# every quote it starts from and never backtracks (possessive), so removing strings is linear even
# for hostile text such as a megabyte of `\"`.
_STRING_RE = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_BRACKET_RE = re.compile(r"[\[\]{}]")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class PayloadError(ValueError):
    """An ingest body that is refused; the message is one sentence for the 400 answer."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ParsedBody:
    """An accepted ingest body: `text` to store and relay, `data` to run filters on."""

    text: str
    data: dict[str, Any]


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text, counted without parsing (no recursion).

    Brackets inside strings do not count. For valid JSON this is the exact depth (`{}` is 1);
    for invalid JSON it is an upper bound of what a parser reaches before it gives up.
    """
    structure = _STRING_RE.sub("", text)
    steps = map(_BRACKET_STEP.__getitem__, _BRACKET_RE.findall(structure))
    return max(accumulate(steps), default=0)


def _too_deep(text: str, max_depth: int) -> bool:
    # Fewer opening brackets than the limit cannot nest past it: most bodies skip the scan.
    if text.count("[") + text.count("{") <= max_depth:
        return False
    return nesting_depth(text) > max_depth


def _reject_constant(name: str) -> Any:
    raise PayloadError(
        f"The body contains {name}, which is not a JSON number (RFC 8259).",
        code="invalid_number",
    )


def _decimal(literal: str) -> Decimal:
    try:
        return Decimal(literal)
    except InvalidOperation:
        shown = literal if len(literal) <= 40 else literal[:37] + "..."
        raise PayloadError(
            f"The body contains the number {shown}, which is out of range.",
            code="invalid_number",
        ) from None


def _int_or_decimal(literal: str) -> int | Decimal:
    try:
        return int(literal)
    except ValueError:  # over Python's int digit limit: the value is kept exactly all the same
        return _decimal(literal)


def parse_ingest_body(raw: bytes, *, max_depth: int = MAX_DEPTH) -> ParsedBody:
    """Validates an ingest body and returns its exact text and its parsed object.

    Raises PayloadError (a ValueError) with a one-sentence message and a `code`.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(
            f"The body is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}).",
            code="invalid_encoding",
        ) from None
    if text.startswith("\ufeff"):
        raise PayloadError(
            "The body starts with a byte order mark; send UTF-8 JSON without one.",
            code="invalid_encoding",
        )
    if not text.strip():
        raise PayloadError("The body is empty; send a JSON object.", code="invalid_json")
    if "\x00" in text:
        raise PayloadError(
            "The body contains a NUL byte, which JSON does not allow; escape it as \\u0000.",
            code="invalid_json",
        )
    if _too_deep(text, max_depth):
        raise PayloadError(
            f"The body nests arrays and objects deeper than {max_depth} levels.",
            code="too_deep",
        )
    try:
        data = json.loads(
            text,
            parse_float=_decimal,
            parse_int=_int_or_decimal,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
            code="invalid_json",
        ) from None
    if not isinstance(data, dict):
        raise PayloadError(
            f"The body must be a JSON object, not {_json_kind(data)}.", code="not_an_object"
        )
    return ParsedBody(text=text, data=data)


def _api_float(literal: str) -> float | str:
    number = float(literal)
    if math.isfinite(number) and Decimal(repr(number)) == Decimal(literal):
        return number
    return literal


def _api_int(literal: str) -> int | str:
    try:
        return int(literal)
    except ValueError:
        return literal


def _api_clean(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE_RE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_SURROGATE_RE.sub("\ufffd", key): _api_clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_api_clean(item) for item in value]
    return value


def payload_for_api(text: str) -> Any:
    """A stored body as JSON-serializable Python values for the API (see the module docstring).

    Never raises: text that is not an acceptable body (older rows, say) is returned as a string.
    """
    if _too_deep(text, MAX_DEPTH):
        return _SURROGATE_RE.sub("\ufffd", text)
    try:
        value = json.loads(
            text, parse_float=_api_float, parse_int=_api_int, parse_constant=_reject_constant
        )
    except ValueError:  # JSONDecodeError and PayloadError alike
        return _SURROGATE_RE.sub("\ufffd", text)
    return _api_clean(value)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
