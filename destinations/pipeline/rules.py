"""Destination `filter` rules: validated when saved, evaluated on each event's payload.

SPEC section 11. A rule is a JSON object; its entries must all hold (an implicit AND):
- `"a.b": v` (a dotted path and a value): the value at the path equals `v`;
- `"a.b": {"$op": operand, ...}`: every operator holds for the value at the path:
  `$eq $ne` (any value), `$in $nin` (a list of values), `$gt $gte $lt $lte` (a number or a
  string), `$exists` (true or false);
- `"$and": [rule, ...]`, `"$or": [rule, ...]` (non-empty lists) and `"$not": rule`.
`{}` matches every payload.

Semantics (MongoDB-like, simplified so that every case is stated here):
- A path is split on `.`; each segment is an object key, or, on a list, a 0-based index
  (`items.0.sku`). Lists are not searched implicitly: `{"tags": "x"}` compares the whole value of
  `tags` with `"x"`. Keys that contain a dot cannot be addressed.
- A missing path equals nothing (not even null): `$eq`, `$in` and the comparisons are false,
  `$ne` and `$nin` are true (they are the negations of `$eq` and `$in`), `$exists: false` is true.
  A path whose value is null exists.
- Equality is JSON equality: numbers are equal by value across int, float and Decimal
  (`1 == 1.0`); a float counts as the decimal it prints as (`0.1` is `Decimal("0.1")`), so rule
  numbers (floats, from the API's JSON) meet payload numbers (Decimal, see `payloads`) exactly;
  booleans are not numbers (`true != 1`); lists are equal element by element, objects key by key.
- `$gt $gte $lt $lte` compare two numbers or two strings (by code point); anything else, such as a
  string against a number, is false.

`validate_rule` refuses, with a ValidationError naming the problem and where it is in the rule
(`filter.$and[1]["amount.total"].$in`): a rule that is not an object, unknown operators, operators
in the wrong place, wrong operand types, empty `$and`/`$or`, malformed paths, nesting deeper than
`MAX_DEPTH` rule levels or operand values deeper than `MAX_VALUE_DEPTH`, more than
`MAX_CONDITIONS` conditions and more than `MAX_SIZE` bytes of JSON.

`matches` never raises, whatever the payload; on a rule that did not pass `validate_rule` it
returns False for the parts it cannot understand. MongoDB-style matchers on PyPI (`mongoquery`)
were not used: they bring operators the SPEC does not have (`$regex`, `$where`-like callables),
implicit array search, and Python comparison semantics (`True == 1`, errors on mixed types).
"""

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeGuard

from django.core.exceptions import ValidationError

MAX_DEPTH = 10
MAX_VALUE_DEPTH = 10
MAX_CONDITIONS = 100
MAX_SIZE = 64 * 1024
MAX_PATH_LENGTH = 255

LOGICAL_OPERATORS = frozenset({"$and", "$or", "$not"})
COMPARISON_OPERATORS = frozenset({"$gt", "$gte", "$lt", "$lte"})
FIELD_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$exists"}) | COMPARISON_OPERATORS

# Deeper than this, equality gives up (False) instead of recursing: operands are far shallower.
_EQUAL_MAX_DEPTH = 100
_PLAIN_KEY_RE = re.compile(r"[$A-Za-z0-9_]+")


# Validation


class _Location:
    """Where in the rule a problem is, as `filter.$and[1]["amount.total"].$in`."""

    def __init__(self, parts: tuple[str | int, ...] = ()) -> None:
        self.parts = parts

    def __truediv__(self, part: str | int) -> "_Location":
        return _Location((*self.parts, part))

    def __str__(self) -> str:
        text = "filter"
        for part in self.parts:
            if isinstance(part, int):
                text += f"[{part}]"
            elif _PLAIN_KEY_RE.fullmatch(part):
                text += f".{part}"
            else:
                text += f"[{json.dumps(part, ensure_ascii=False)}]"
        return text


def _invalid(where: _Location, problem: str) -> ValidationError:
    return ValidationError(f"{where}: {problem}", code="invalid_filter")


class _Validator:
    def __init__(self) -> None:
        self.conditions = 0

    def rule(self, rule: object, where: _Location, level: int) -> None:
        if level > MAX_DEPTH:
            raise _invalid(where, f"rules nest deeper than {MAX_DEPTH} levels.")
        if not isinstance(rule, dict):
            raise _invalid(where, f"a rule must be an object, got {json_kind(rule)}.")
        for key, condition in rule.items():
            if not isinstance(key, str):
                raise _invalid(where, f"keys must be strings, got {json_kind(key)}.")
            if key in ("$and", "$or"):
                self.rule_list(key, condition, where / key, level)
            elif key == "$not":
                self.rule(condition, where / key, level + 1)
            elif key in FIELD_OPERATORS:
                raise _invalid(
                    where / key,
                    f'{key} applies to a field, as in {{"amount": {{"{key}": ...}}}}.',
                )
            elif key.startswith("$"):
                raise _invalid(where / key, f"unknown operator {key}.")
            else:
                self.field(key, condition, where / key)

    def rule_list(self, operator: str, rules: object, where: _Location, level: int) -> None:
        if not isinstance(rules, list):
            raise _invalid(where, f"{operator} needs a list of rules, got {json_kind(rules)}.")
        if not rules:
            raise _invalid(where, f"{operator} needs at least one rule.")
        for index, rule in enumerate(rules):
            self.rule(rule, where / index, level + 1)

    def field(self, path: str, condition: object, where: _Location) -> None:
        _check_path(path, where)
        if isinstance(condition, dict) and any(
            isinstance(key, str) and key.startswith("$") for key in condition
        ):
            operators = [key for key in condition if isinstance(key, str) and key.startswith("$")]
            if len(operators) != len(condition):
                raise _invalid(where, "an object of operators cannot also hold plain keys (mixed).")
            for operator, operand in condition.items():
                self.operator(operator, operand, where / operator)
        else:
            self.count()
            _check_value(condition, where, 1)

    def operator(self, operator: str, operand: object, where: _Location) -> None:
        if operator in LOGICAL_OPERATORS:
            raise _invalid(
                where,
                f'{operator} combines rules and cannot apply to a field; write {{"{operator}": '
                "...}} around the field rules.",
            )
        if operator not in FIELD_OPERATORS:
            raise _invalid(where, f"unknown operator {operator}.")
        self.count()
        if operator in ("$in", "$nin"):
            if not isinstance(operand, list):
                raise _invalid(
                    where, f"{operator} needs a list of values, got {json_kind(operand)}."
                )
            _check_value(operand, where, 1)
        elif operator in COMPARISON_OPERATORS:
            if not (_is_number(operand) or isinstance(operand, str)):
                raise _invalid(
                    where, f"{operator} needs a number or a string, got {json_kind(operand)}."
                )
        elif operator == "$exists":
            if not isinstance(operand, bool):
                raise _invalid(where, f"$exists needs true or false, got {json_kind(operand)}.")
        else:
            _check_value(operand, where, 1)

    def count(self) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise _invalid(_Location(), f"a filter may hold at most {MAX_CONDITIONS} conditions.")


def _check_path(path: str, where: _Location) -> None:
    if len(path) > MAX_PATH_LENGTH:
        raise _invalid(where, f"a path may be at most {MAX_PATH_LENGTH} characters long.")
    for segment in path.split("."):
        if not segment:
            raise _invalid(where, "a path cannot have an empty segment (check the dots).")
        if segment.startswith("$"):
            raise _invalid(where, f"the path segment {segment!r} cannot start with '$'.")


def _check_value(value: object, where: _Location, level: int) -> None:
    if isinstance(value, list | dict) and level > MAX_VALUE_DEPTH:
        raise _invalid(where, f"a value nests deeper than {MAX_VALUE_DEPTH} levels.")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, where / index, level + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _invalid(where, f"keys must be strings, got {json_kind(key)}.")
            _check_value(item, where / key, level + 1)
    elif not (value is None or isinstance(value, str | bool) or _is_number(value)):
        raise _invalid(where, f"{json_kind(value)} is not a JSON value.")


def validate_rule(rule: object) -> dict[str, Any]:
    """Returns the rule unchanged if it is valid; raises ValidationError naming the problem."""
    if not isinstance(rule, dict):
        raise ValidationError(
            f"The filter must be a JSON object, got {json_kind(rule)}.", code="invalid_filter"
        )
    _Validator().rule(rule, _Location(), 1)
    size = len(json.dumps(rule, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    if size > MAX_SIZE:
        raise ValidationError(
            f"The filter is {size} bytes of JSON; at most {MAX_SIZE} are allowed.",
            code="invalid_filter",
        )
    return rule


# Evaluation


def matches(rule: Mapping[str, Any], payload: object) -> bool:
    """Whether the payload satisfies the (validated) rule. Never raises."""
    return _match_rule(rule, payload, 1)


def _match_rule(rule: object, payload: object, level: int) -> bool:
    if level > MAX_DEPTH or not isinstance(rule, Mapping):
        return False
    for key, condition in rule.items():
        if not isinstance(key, str):
            return False
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                return False
            results = (_match_rule(item, payload, level + 1) for item in condition)
            if not (all(results) if key == "$and" else any(results)):
                return False
        elif key == "$not":
            if not isinstance(condition, Mapping) or _match_rule(condition, payload, level + 1):
                return False
        elif key.startswith("$") or not _match_field(condition, *_resolve(payload, key)):
            return False
    return True


def _resolve(payload: object, path: str) -> tuple[bool, object]:
    """(found, value) at a dotted path; list segments are 0-based indexes."""
    value = payload
    for segment in path.split("."):
        if isinstance(value, Mapping):
            if segment not in value:
                return False, None
            value = value[segment]
        elif isinstance(value, list):
            # isascii: str.isdigit also accepts digits like "²" that int() refuses.
            if not (segment.isascii() and segment.isdigit() and len(segment) <= 9):
                return False, None
            index = int(segment)
            if index >= len(value):
                return False, None
            value = value[index]
        else:
            return False, None
    return True, value


def _match_field(condition: object, found: bool, value: object) -> bool:
    if isinstance(condition, Mapping) and any(
        isinstance(key, str) and key.startswith("$") for key in condition
    ):
        return all(
            _match_operator(operator, operand, found, value)
            for operator, operand in condition.items()
        )
    return found and _equal(value, condition, 0)


def _match_operator(operator: object, operand: object, found: bool, value: object) -> bool:
    if operator == "$eq":
        return found and _equal(value, operand, 0)
    if operator == "$ne":
        return not (found and _equal(value, operand, 0))
    if operator in ("$in", "$nin"):
        if not isinstance(operand, list):
            return False
        is_in = found and any(_equal(value, item, 0) for item in operand)
        return is_in if operator == "$in" else not is_in
    if operator == "$exists":
        return isinstance(operand, bool) and found is operand
    if operator in COMPARISON_OPERATORS:
        order = _compare(value, operand) if found else None
        if order is None:
            return False
        if operator == "$gt":
            return order > 0
        if operator == "$gte":
            return order >= 0
        if operator == "$lt":
            return order < 0
        return order <= 0
    return False


def _is_number(value: object) -> TypeGuard[int | float | Decimal]:
    """int, finite float or finite Decimal; bool is not a number."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    return False


def _as_decimal(number: int | float | Decimal) -> Decimal:
    # A float stands for the decimal it prints as: 0.1 is Decimal("0.1"), not 0.1000000000000000055.
    if isinstance(number, float):
        return Decimal(repr(number))
    return Decimal(number)


def _compare(left: object, right: object) -> int | None:
    """-1, 0 or 1 for two numbers or two strings; None when they are not comparable."""
    if _is_number(left) and _is_number(right):
        a, b = _as_decimal(left), _as_decimal(right)
        return (a > b) - (a < b)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    return None


def _equal(left: object, right: object, depth: int) -> bool:
    if depth > _EQUAL_MAX_DEPTH:
        return False
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if _is_number(left) or _is_number(right):
        return _compare(left, right) == 0
    if isinstance(left, str) or isinstance(right, str):
        return isinstance(left, str) and isinstance(right, str) and left == right
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            _equal(a, b, depth + 1) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(
            _equal(left[key], right[key], depth + 1) for key in left
        )
    return False


def json_kind(value: object) -> str:
    """How an error message names a JSON value's type (`a string`, `a list`, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if _is_number(value):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float | Decimal):
        return "a non-finite number"
    return f"a {type(value).__name__}"
