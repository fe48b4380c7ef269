"""Event types: what a type may look like, what a destination's `event_types` may list, matching.

SPEC section 11. A type is 1 to 100 characters of `A-Z a-z 0-9 _ . : -` (`order.created`).
The prefix `system.` is reserved for the events the product emits; ingest refuses it, compared
case-insensitively so that a look-alike such as `System.delivery.failed` cannot be sent to
receivers that trust the prefix either.

A destination's `event_types` lists at most 50 entries, each an exact type or a prefix pattern
ending in `.*`: `invoice.*` matches `invoice.paid` and `invoice.line.added`, not `invoice`
itself (as in Svix and Convoy: the pattern is the prefix `invoice.`). Matching is case-sensitive.

Who receives what (`subscribes`):
- an empty list: every typed and untyped event except `system.*` ones;
- an untyped event (`None`): only destinations with an empty list;
- a `system.*` event: only lists that name it, exactly or by a pattern (`system.*`,
  `system.delivery.*`).
"""

import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError

from destinations.pipeline.rules import json_kind

EVENT_TYPE_MAX_LENGTH = 100
EVENT_TYPES_MAX_ENTRIES = 50
SYSTEM_PREFIX = "system."
PATTERN_SUFFIX = ".*"

# The operational events the product emits (SPEC section 11).
SYSTEM_DESTINATION_DISABLED = "system.destination.disabled"
SYSTEM_DELIVERY_FAILED = "system.delivery.failed"
SYSTEM_TEST = "system.test"  # a test ping, sent to the one destination that asked for it

_EVENT_TYPE_RE = re.compile(rf"[A-Za-z0-9_.:\-]{{1,{EVENT_TYPE_MAX_LENGTH}}}")
_ALLOWED_CHARACTERS = "A-Z a-z 0-9 _ . : -"


def is_system_event_type(event_type: str) -> bool:
    """True for the reserved `system.` prefix, in any letter case."""
    return event_type[: len(SYSTEM_PREFIX)].lower() == SYSTEM_PREFIX


def _check_format(value: object, *, label: str, code: str = "invalid_event_type") -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be a string.", code=code)
    if not value:
        raise ValidationError(f"{label} must not be empty.", code=code)
    if len(value) > EVENT_TYPE_MAX_LENGTH:
        raise ValidationError(
            f"{label} is {len(value)} characters long; at most {EVENT_TYPE_MAX_LENGTH} are allowed.",
            code=code,
        )
    if not _EVENT_TYPE_RE.fullmatch(value):
        raise ValidationError(
            f"{label} {value!r} may only contain the characters {_ALLOWED_CHARACTERS}.",
            code=code,
        )
    return value


def validate_ingest_event_type(value: object) -> str:
    """An event type sent by a client (`CL-X-EVENT-TYPE`): well-formed and not `system.*`."""
    event_type = _check_format(value, label="The event type")
    if is_system_event_type(event_type):
        raise ValidationError(
            f"The event type {event_type!r} uses the prefix {SYSTEM_PREFIX!r}, which is reserved "
            "for events the product emits.",
            code="reserved_event_type",
        )
    return event_type


def validate_product_event_type(value: object) -> str:
    """An event type the product itself emits: well-formed; `system.*` is allowed here."""
    return _check_format(value, label="The event type")


def is_pattern(entry: str) -> bool:
    return entry.endswith(PATTERN_SUFFIX)


def _validate_entry(entry: object, index: int) -> str:
    label = f"Entry {index} of event_types"
    if not isinstance(entry, str):
        raise ValidationError(
            f"{label} must be a string, got {json_kind(entry)}.", code="invalid_event_types"
        )
    if len(entry) > EVENT_TYPE_MAX_LENGTH:
        raise ValidationError(
            f"{label} is {len(entry)} characters long; at most {EVENT_TYPE_MAX_LENGTH} are allowed.",
            code="invalid_event_types",
        )
    if is_pattern(entry):
        prefix = entry[: -len(PATTERN_SUFFIX)]
        if not prefix:
            raise ValidationError(
                f"{label} {entry!r} has no prefix before '.*'; leave event_types empty to "
                "receive every event.",
                code="invalid_event_types",
            )
        if "*" in prefix:
            raise ValidationError(
                f"{label} {entry!r} may use '*' only once, as the final '.*'.",
                code="invalid_event_types",
            )
        label = f"{label} {entry!r}: its prefix"
        _check_format(
            prefix + ".", label=label, code="invalid_event_types"
        )  # the dot belongs to the prefix
        return entry
    if "*" in entry:
        raise ValidationError(
            f"{label} {entry!r} may use '*' only at the end, as in 'invoice.*'.",
            code="invalid_event_types",
        )
    _check_format(entry, label=label, code="invalid_event_types")
    return entry


def validate_event_types(value: object) -> list[str]:
    """A destination's `event_types`: a list of at most 50 distinct types or `prefix.*` patterns.

    Raises ValidationError with a message naming the offending entry (by index and value).
    """
    if not isinstance(value, list):
        raise ValidationError(
            f"event_types must be a list of strings, got {json_kind(value)}.",
            code="invalid_event_types",
        )
    if len(value) > EVENT_TYPES_MAX_ENTRIES:
        raise ValidationError(
            f"event_types has {len(value)} entries; at most {EVENT_TYPES_MAX_ENTRIES} are allowed.",
            code="invalid_event_types",
        )
    seen: set[str] = set()
    entries: list[str] = []
    for index, raw in enumerate(value):
        entry = _validate_entry(raw, index)
        if entry in seen:
            raise ValidationError(
                f"Entry {index} of event_types {entry!r} is listed more than once.",
                code="invalid_event_types",
            )
        seen.add(entry)
        entries.append(entry)
    return entries


def subscribes(event_types: Sequence[str], event_type: str | None) -> bool:
    """Whether a destination with these (validated) `event_types` receives an event of this type."""
    if event_type is None:
        return not event_types
    if not event_types:
        return not is_system_event_type(event_type)
    for entry in event_types:
        if is_pattern(entry):
            # The prefix keeps its dot: `invoice.*` matches `invoice.paid`, not `invoicepaid`.
            if event_type.startswith(entry[: -len(PATTERN_SUFFIX) + 1]):
                return True
        elif entry == event_type:
            return True
    return False
