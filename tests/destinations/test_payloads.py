"""Ingest bodies: exact text kept, hostile input refused with a clear message, never a crash."""

import json
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from destinations.models import DeliveryLog
from destinations.pipeline.payloads import (
    MAX_DEPTH,
    PayloadError,
    nesting_depth,
    parse_ingest_body,
    payload_for_api,
)
from tests.destinations.factories import DeliveryLogFactory

HUGE_DECIMAL = b'{"amount": 12345678901234567890.123456789}'
HUGE_INT = b'{"n": ' + b"9" * 5000 + b"}"

# Bodies PostgreSQL's jsonb or Python's parser chokes on, that are nonetheless valid JSON.
HOSTILE_ACCEPTED = [
    b'{"x": 1e400}',
    b'{"x": -1e400, "y": 1e-400}',
    b'{"s": "a\\u0000b"}',
    b'{"s": "\\ud800", "\\udfff": 1}',
    HUGE_DECIMAL,
    HUGE_INT,
    b'{"big": 123456789012345678901234567890123456789}',
    '{"café": "naïve ☕", "emoji": "\U0001f600"}'.encode(),
]


def _refused(raw: bytes) -> PayloadError:
    with pytest.raises(PayloadError) as exc:
        parse_ingest_body(raw)
    assert isinstance(exc.value, ValueError)
    return exc.value


def test_it_keeps_the_exact_text_and_parses_numbers_exactly():
    raw = b'{ "z": 1,\n  "a": [1.50, 2E3, -0], "m": {"k": null, "t": true}, "amount": 12345678901234567890.123456789 }'
    parsed = parse_ingest_body(raw)
    assert parsed.text.encode("utf-8") == raw
    assert list(parsed.data) == ["z", "a", "m", "amount"]
    assert parsed.data["a"] == [Decimal("1.50"), Decimal("2E3"), 0]
    assert type(parsed.data["z"]) is int
    assert parsed.data["amount"] == Decimal("12345678901234567890.123456789")


@pytest.mark.parametrize("raw", HOSTILE_ACCEPTED)
def test_hostile_but_valid_json_is_accepted_unchanged(raw):
    parsed = parse_ingest_body(raw)
    assert parsed.text.encode("utf-8") == raw
    assert isinstance(parsed.data, dict)


def test_odd_values_survive_for_filters():
    assert parse_ingest_body(b'{"x": 1e400}').data["x"] == Decimal("1e400")
    assert parse_ingest_body(b'{"s": "a\\u0000b"}').data["s"] == "a\x00b"
    assert parse_ingest_body(b'{"s": "\\ud800"}').data["s"] == "\ud800"
    assert parse_ingest_body(HUGE_INT).data["n"] == Decimal("9" * 5000)


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        (b'{"a": "\xff"}', "invalid_encoding", "not valid UTF-8 (byte 0xff at offset 7)"),
        (b'{"a": "\xed\xa0\x80"}', "invalid_encoding", "not valid UTF-8"),  # encoded surrogate
        (b'\xef\xbb\xbf{"a": 1}', "invalid_encoding", "byte order mark"),
        (b"", "invalid_json", "empty"),
        (b" \n ", "invalid_json", "empty"),
        (b'{"a": "x\x00y"}', "invalid_json", "NUL byte"),
        (b'{"a": 1}\x00', "invalid_json", "NUL byte"),
        (b"{'a': 1}", "invalid_json", "not valid JSON: Expecting property name"),
        (b'{"a": 1,}', "invalid_json", "line 1 column 9"),
        (b'{"a": 1} {"b": 2}', "invalid_json", "Extra data"),
        (b'{"a": "unterminated', "invalid_json", "Unterminated string"),
        (b'{"a": "tab\there"}', "invalid_json", "Invalid control character"),
        (b"[1, 2]", "not_an_object", "must be a JSON object, not an array"),
        (b'"text"', "not_an_object", "not a string"),
        (b"42", "not_an_object", "not a number"),
        (b"null", "not_an_object", "not null"),
        (b"true", "not_an_object", "not a boolean"),
        (b'{"x": NaN}', "invalid_number", "contains NaN, which is not a JSON number"),
        (b'{"x": Infinity}', "invalid_number", "Infinity"),
        (b'{"x": [-Infinity]}', "invalid_number", "-Infinity"),
        (b'{"x": 1e9999999999999999999}', "invalid_number", "out of range"),
    ],
)
def test_it_refuses_bad_bodies_with_a_clear_message(raw, code, fragment):
    error = _refused(raw)
    assert error.code == code
    assert fragment in error.message
    assert error.message.endswith(".")


def test_nesting_at_the_limit_is_accepted_and_one_more_level_refused():
    at_limit = b'{"a":' * (MAX_DEPTH - 1) + b"[1]" + b"}" * (MAX_DEPTH - 1)
    assert nesting_depth(at_limit.decode()) == MAX_DEPTH
    assert parse_ingest_body(at_limit).text.encode() == at_limit
    over = b"[" + at_limit + b"]"
    over_obj = b'{"k":' + at_limit + b"}"
    for body in (over, over_obj):
        error = _refused(body)
        assert error.code == "too_deep"  # depth is checked before the top-level type
        assert f"deeper than {MAX_DEPTH} levels" in error.message


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"a":' * 100_000,  # truncated: refused for depth before the parser sees it
        b"[" * 1_000_000,
    ],
)
def test_a_hundred_thousand_levels_are_refused_without_recursion(raw):
    assert _refused(raw).code == "too_deep"


def test_brackets_inside_strings_do_not_count():
    raw = ('{"s": "' + "[{" * 10_000 + '\\"]]", "t": "\\\\", "u": [[1]]}').encode()
    assert nesting_depth(raw.decode()) == 3
    assert parse_ingest_body(raw).data["u"] == [[1]]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ('"' + '\\"' * 500_000, 0),
        ('"' * 1_000_000, 0),
        ('"\\' * 300_000, 0),
        ('{"a": "' + "x[" * 500_000, 1),
    ],
)
def test_depth_scan_of_hostile_quotes_stays_linear(text, depth):
    # A backtracking string pattern takes hours on these; the scan must finish.
    assert nesting_depth(text) == depth


def test_api_rendering_is_always_json_serializable_and_never_changes_a_number():
    text = (
        '{"f": 2.5, "tenth": 0.1, "e": 1e3, "inf": 1e400, "tiny": 1e-400, '
        '"exact": 12345678901234567890.123456789, "i": 12345678901234567890123, '
        '"neg0": -0.0, "s": "\\ud800x", "\\udfff": "\\u0000", "nested": [{"a": [true, null]}]}'
    )
    value = payload_for_api(text)
    assert value == {
        "f": 2.5,
        "tenth": 0.1,
        "e": 1000.0,
        "inf": "1e400",
        "tiny": "1e-400",
        "exact": "12345678901234567890.123456789",
        "i": 12345678901234567890123,
        "neg0": -0.0,
        "s": "\ufffdx",
        "\ufffd": "\x00",
        "nested": [{"a": [True, None]}],
    }
    rendered = JSONRenderer().render(value)  # DRF's strict renderer raises on NaN or surrogates
    assert json.loads(rendered)["i"] == 12345678901234567890123
    assert b'"exact":"12345678901234567890.123456789"' in rendered


def test_api_rendering_of_a_huge_integer_and_of_unparseable_text():
    assert payload_for_api('{"n": ' + "9" * 5000 + "}") == {"n": "9" * 5000}
    assert payload_for_api("not json \ud800") == "not json \ufffd"
    assert payload_for_api('{"x": NaN}') == '{"x": NaN}'
    assert payload_for_api("[" * 100_000) == "[" * 100_000
    JSONRenderer().render(payload_for_api("not json \ud800"))


@pytest.mark.django_db
@pytest.mark.parametrize("raw", HOSTILE_ACCEPTED)
def test_the_text_of_each_accepted_body_round_trips_through_a_text_column(raw):
    # On PostgreSQL this is the real check: TEXT refuses NUL characters and invalid UTF-8.
    text = parse_ingest_body(raw).text
    log = DeliveryLogFactory(last_error=text)
    stored = DeliveryLog.objects.values_list("last_error", flat=True).get(pk=log.pk)
    assert stored.encode("utf-8") == raw
