"""Event types (SPEC section 11): format, the reserved `system.` prefix, lists, and matching."""

import pytest
from django.core.exceptions import ValidationError

from destinations.pipeline.event_types import (
    SYSTEM_DELIVERY_FAILED,
    SYSTEM_DESTINATION_DISABLED,
    subscribes,
    validate_event_types,
    validate_ingest_event_type,
    validate_product_event_type,
)


def _message(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(exc.value.messages)


@pytest.mark.parametrize(
    "value",
    ["order.created", "a", "A-Z_a-z:0-9.x", "x" * 100, "system", "systemic.event", "sys.x"],
)
def test_it_accepts_well_formed_ingest_types(value):
    assert validate_ingest_event_type(value) == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "must not be empty"),
        ("x" * 101, "101 characters long; at most 100"),
        ("order created", "may only contain"),
        ("order/created", "may only contain"),
        ("order.created\n", "may only contain"),
        ("ordér", "may only contain"),
        ("invoice.*", "may only contain"),
        (None, "must be a string"),
        (12, "must be a string"),
    ],
)
def test_it_refuses_malformed_types_with_a_clear_message(value, fragment):
    with pytest.raises(ValidationError) as exc:
        validate_ingest_event_type(value)
    assert fragment in _message(exc)


@pytest.mark.parametrize(
    "value", ["system.destination.disabled", "system.", "System.delivery.failed", "SYSTEM.x"]
)
def test_ingest_refuses_the_reserved_prefix_in_any_case(value):
    with pytest.raises(ValidationError) as exc:
        validate_ingest_event_type(value)
    assert exc.value.error_list[0].code == "reserved_event_type"
    assert "reserved" in _message(exc)
    assert repr(value) in _message(exc)


def test_product_types_may_use_the_reserved_prefix_but_not_bad_characters():
    assert validate_product_event_type(SYSTEM_DESTINATION_DISABLED) == SYSTEM_DESTINATION_DISABLED
    assert validate_product_event_type(SYSTEM_DELIVERY_FAILED) == SYSTEM_DELIVERY_FAILED
    with pytest.raises(ValidationError):
        validate_product_event_type("system destination")


def test_a_list_of_types_and_patterns_is_accepted_as_is():
    entries = ["invoice.*", "order.created", "system.*", "system.delivery.*", "a:b-c_d"]
    assert validate_event_types(entries) == entries
    assert validate_event_types([]) == []
    assert validate_event_types([f"t{n}" for n in range(50)]) == [f"t{n}" for n in range(50)]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("invoice.*", "must be a list of strings, got a string"),
        ({"a": 1}, "must be a list of strings, got an object"),
        (None, "got null"),
        ([f"t{n}" for n in range(51)], "51 entries; at most 50"),
        (["ok", 3], "Entry 1 of event_types must be a string, got a number"),
        (["ok", ""], "Entry 1 of event_types must not be empty"),
        (["a.b", "a.b"], "Entry 1 of event_types 'a.b' is listed more than once"),
        (["*"], "Entry 0 of event_types '*' may use '*' only at the end"),
        ([".*"], "has no prefix before '.*'"),
        (["inv*.x"], "'inv*.x' may use '*' only at the end"),
        (["invoice*"], "'invoice*' may use '*' only at the end"),
        (["a.*.*"], "'a.*.*' may use '*' only once"),
        (["*.paid"], "'*.paid' may use '*' only at the end"),
        (["in voice.*"], "its prefix 'in voice.' may only contain"),
        (["x" * 99 + ".*"], "101 characters long"),
        (["ok", "bad type"], "Entry 1 of event_types 'bad type' may only contain"),
    ],
)
def test_it_refuses_bad_lists_naming_the_entry(value, fragment):
    with pytest.raises(ValidationError) as exc:
        validate_event_types(value)
    assert exc.value.error_list[0].code == "invalid_event_types"
    assert fragment in _message(exc)


@pytest.mark.parametrize(
    ("event_types", "event_type", "expected"),
    [
        # Empty list: everything but system events, untyped included.
        ([], "order.created", True),
        ([], None, True),
        ([], "system.delivery.failed", False),
        ([], "System.delivery.failed", False),
        # Untyped events go only to empty lists.
        (["order.created"], None, False),
        (["order.*"], None, False),
        # Exact names.
        (["order.created"], "order.created", True),
        (["order.created"], "order.created.v2", False),
        (["order.created"], "Order.created", False),
        (["a", "order.created"], "order.created", True),
        # Patterns: the prefix keeps its dot.
        (["invoice.*"], "invoice.paid", True),
        (["invoice.*"], "invoice.line.added", True),
        (["invoice.*"], "invoice", False),
        (["invoice.*"], "invoicepaid", False),
        (["invoice.*"], "invoices.paid", False),
        (["invoice.line.*"], "invoice.paid", False),
        # System events only when named.
        (["system.*"], "system.destination.disabled", True),
        (["system.delivery.*"], "system.delivery.failed", True),
        (["system.delivery.*"], "system.destination.disabled", False),
        (["system.delivery.failed"], "system.delivery.failed", True),
        (["order.*"], "system.delivery.failed", False),
        (["system.*"], "order.created", False),
    ],
)
def test_subscribes(event_types, event_type, expected):
    assert subscribes(event_types, event_type) is expected
