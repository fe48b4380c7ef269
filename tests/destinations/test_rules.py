"""Destination filter rules: every operator, the stated semantics, and every invalid-rule class."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from destinations.pipeline.payloads import parse_ingest_body
from destinations.pipeline.rules import MAX_CONDITIONS, MAX_DEPTH, MAX_SIZE, matches, validate_rule

PAYLOAD = parse_ingest_body(
    b"""{
        "type": "invoice.paid",
        "amount": 12.5,
        "count": 3,
        "big": 12345678901234567890.123456789,
        "flag": true,
        "none": null,
        "tags": ["a", "b"],
        "items": [{"sku": "X1", "qty": 2}, {"sku": "Y2", "qty": 0}],
        "customer": {"id": "cus_1", "address": {"country": "DE"}},
        "name": "Zo\\u00eb",
        "a.b": "dotted key"
    }"""
).data


def _valid(rule):
    assert validate_rule(rule) is rule
    return rule


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({}, True),
        # Equality on dotted paths.
        ({"type": "invoice.paid"}, True),
        ({"type": "invoice.void"}, False),
        ({"customer.address.country": "DE"}, True),
        ({"customer.address.country": "FR"}, False),
        ({"customer.address": {"country": "DE"}}, True),
        ({"customer.address": {}}, False),
        ({"customer.missing.deeper": "x"}, False),
        ({"type.deeper": "x"}, False),  # a path through a string
        ({"type": "invoice.paid", "count": 3}, True),  # implicit AND
        ({"type": "invoice.paid", "count": 4}, False),
        # Numbers by value across int, float and Decimal; bool is not a number.
        ({"count": 3.0}, True),
        ({"amount": 12.5}, True),
        ({"big": 12345678901234567890.123456789}, False),  # a float cannot hold it ...
        ({"big": {"$gt": 12345678901234567890}}, True),  # ... but it compares exactly
        ({"flag": True}, True),
        ({"flag": 1}, False),
        ({"count": True}, False),
        ({"none": None}, True),
        ({"missing": None}, False),  # missing is not null
        # Lists: index segments, whole-value equality, no implicit search.
        ({"tags": ["a", "b"]}, True),
        ({"tags": ["b", "a"]}, False),
        ({"tags": "a"}, False),
        ({"tags.0": "a"}, True),
        ({"tags.1": "b"}, True),
        ({"tags.2": "c"}, False),
        ({"tags.-1": "b"}, False),
        ({"tags.²": "a"}, False),
        ({"tags.99999999999999999999": "a"}, False),
        ({"items.1.sku": "Y2"}, True),
        ({"items.sku": "X1"}, False),
        ({"a.b": "dotted key"}, False),  # keys with dots cannot be addressed
        # $eq / $ne.
        ({"count": {"$eq": 3}}, True),
        ({"count": {"$ne": 3}}, False),
        ({"count": {"$ne": "3"}}, True),
        ({"missing": {"$ne": 3}}, True),
        ({"missing": {"$eq": None}}, False),
        ({"none": {"$ne": None}}, False),
        # $in / $nin.
        ({"customer.address.country": {"$in": ["DE", "AT"]}}, True),
        ({"customer.address.country": {"$in": ["FR"]}}, False),
        ({"count": {"$in": [1, 3.0]}}, True),
        ({"count": {"$in": []}}, False),
        ({"flag": {"$in": [1]}}, False),
        ({"tags": {"$in": [["a", "b"]]}}, True),
        ({"missing": {"$in": [None]}}, False),
        ({"count": {"$nin": [1, 2]}}, True),
        ({"count": {"$nin": [3]}}, False),
        ({"missing": {"$nin": [3]}}, True),
        # Comparisons: numbers with numbers, strings with strings, else false.
        ({"amount": {"$gt": 12}}, True),
        ({"amount": {"$gt": 12.5}}, False),
        ({"amount": {"$gte": 12.5}}, True),
        ({"amount": {"$lt": 13}}, True),
        ({"amount": {"$lte": 12.4}}, False),
        ({"amount": {"$gt": 10, "$lt": 20}}, True),
        ({"amount": {"$gt": 10, "$lt": 11}}, False),
        ({"count": {"$gt": "2"}}, False),
        ({"name": {"$gt": 1}}, False),
        ({"name": {"$gte": "Zo"}}, True),
        ({"name": {"$lt": "Zoa"}}, False),
        ({"flag": {"$gt": 0}}, False),
        ({"none": {"$lt": 1}}, False),
        ({"tags": {"$gt": "a"}}, False),
        ({"missing": {"$lt": 1}}, False),
        ({"big": {"$lt": 1e300}}, True),
        # $exists.
        ({"none": {"$exists": True}}, True),
        ({"missing": {"$exists": False}}, True),
        ({"missing": {"$exists": True}}, False),
        ({"items.0.qty": {"$exists": True}}, True),
        # Logical operators.
        ({"$and": [{"count": 3}, {"flag": True}]}, True),
        ({"$and": [{"count": 3}, {"flag": False}]}, False),
        ({"$or": [{"count": 4}, {"flag": True}]}, True),
        ({"$or": [{"count": 4}, {"flag": False}]}, False),
        ({"$not": {"count": 3}}, False),
        ({"$not": {"count": 4}}, True),
        ({"$not": {}}, False),
        ({"$not": {"missing": {"$gt": 1}}}, True),
        (
            {
                "$or": [
                    {"$and": [{"type": "invoice.paid"}, {"amount": {"$gte": 100}}]},
                    {"$not": {"customer.address.country": {"$in": ["US", "CA"]}}},
                ]
            },
            True,
        ),
    ],
)
def test_matches(rule, expected):
    assert matches(_valid(rule), PAYLOAD) is expected


def test_payload_numbers_meet_rule_floats_by_their_decimal_value():
    payload = parse_ingest_body(b'{"x": 0.1, "y": 1e400, "z": 100000000000000000000}').data
    assert matches({"x": 0.1}, payload)  # Decimal("0.1") vs float 0.1
    assert matches({"x": {"$in": [0.3, 0.1]}}, payload)
    assert matches({"y": {"$gt": 1.7e308}}, payload)
    assert matches({"z": 1e20}, payload)
    assert matches({"z": {"$gte": 100000000000000000000, "$lte": 1e20}}, payload)
    assert matches({"x": {"$gt": Decimal("0.09")}}, {"x": 0.1})


def test_untrusted_strings_with_surrogates_and_nul_compare_as_text():
    payload = parse_ingest_body(b'{"s": "\\ud800", "n": "a\\u0000"}').data
    assert matches({"s": "\ud800"}, payload)
    assert matches({"n": {"$gt": "a"}}, payload)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # Odd payloads never raise: they do not match.
        (None, False),
        (3, False),
        ("text", False),
        ([], False),
        ([1, {"a": 1}], False),
        ({"count": {"$gt": 1}}, False),  # an operator in the payload is data, not a query
        ({1: 2}, False),
        (object(), False),
        ({"count": True}, False),  # a boolean is not a number
        ({"count": "2"}, False),  # nor is a numeric string
        # The same rule does match ordinary payloads: the answer above is not a constant.
        ({"count": 2}, True),
        ({"count": 2, "x": 1}, False),
        ({"count": 2, "x": 1, "a": {"b": [1]}}, True),
    ],
)
def test_odd_payloads_never_raise_and_do_not_match(payload, expected):
    rule = {"count": {"$gt": 1}, "$or": [{"a.b.0": 1}, {"$not": {"x": {"$exists": True}}}]}
    assert matches(rule, payload) is expected


def test_deep_payloads_never_raise():
    deep: object = 1
    for _ in range(100_000):
        deep = {"a": deep}
    assert matches({"a.a.a": {"$exists": True}}, deep) is True
    assert matches({"a": {"a": 1}}, deep) is False
    assert matches({"a": {"$in": [[1], {"a": {"a": {"a": 2}}}]}}, deep) is False
    long_list: object = [1]
    for _ in range(100_000):
        long_list = [long_list]
    assert matches({"x": {"$eq": [[[[1]]]]}}, {"x": long_list}) is False


@pytest.mark.parametrize(
    "rule",
    [
        {"$foo": 1},
        {"a": {"$regex": "x"}},
        {"a": {"$gt": 1, "b": 2}},
        {"$and": "x"},
        {"$and": []},
        {"$or": [1]},
        {"$not": 3},
        {"$not": [{"a": 1}]},
        {"a": {"$in": 3}},
        {"a": {"$nin": "ab"}},
        {"a": {"$exists": 1}},
        {1: 2},
        {"a": {"$or": [{"a": 1}]}},
    ],
)
def test_invalid_rules_evaluate_to_false_without_raising(rule):
    assert matches(rule, PAYLOAD) is False


def test_rules_nested_past_the_limit_evaluate_to_false():
    rule: dict = {"count": 3}
    for _ in range(100_000):
        rule = {"$and": [rule]}
    assert matches(rule, PAYLOAD) is False


def _error(rule) -> str:
    with pytest.raises(ValidationError) as exc:
        validate_rule(rule)
    assert exc.value.error_list[0].code == "invalid_filter"
    (message,) = exc.value.messages
    return message


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ([{"a": 1}], "The filter must be a JSON object, got a list."),
        ("a == 1", "The filter must be a JSON object, got a string."),
        (None, "The filter must be a JSON object, got null."),
        ({"$foo": 1}, "filter.$foo: unknown operator $foo."),
        ({"a": {"$regex": "x"}}, "filter.a.$regex: unknown operator $regex."),
        (
            {"$and": [{"a": 1}, {"b.c": {"$in": 3}}]},
            'filter.$and[1]["b.c"].$in: $in needs a list of values, got a number.',
        ),
        ({"a": {"$nin": "ab"}}, "filter.a.$nin: $nin needs a list of values, got a string."),
        ({"a": {"$gt": [1]}}, "filter.a.$gt: $gt needs a number or a string, got a list."),
        ({"a": {"$lte": None}}, "filter.a.$lte: $lte needs a number or a string, got null."),
        ({"a": {"$lt": True}}, "filter.a.$lt: $lt needs a number or a string, got a boolean."),
        ({"a": {"$exists": 1}}, "filter.a.$exists: $exists needs true or false, got a number."),
        ({"$and": []}, "filter.$and: $and needs at least one rule."),
        ({"$or": {"a": 1}}, "filter.$or: $or needs a list of rules, got an object."),
        ({"$or": [{"a": 1}, 2]}, "filter.$or[1]: a rule must be an object, got a number."),
        ({"$not": [{"a": 1}]}, "filter.$not: a rule must be an object, got a list."),
        ({"$gt": 5}, 'filter.$gt: $gt applies to a field, as in {"amount": {"$gt": ...}}.'),
        ({"a": {"$not": {"$eq": 1}}}, "filter.a.$not: $not combines rules and cannot apply"),
        ({"a": {"$or": [{"b": 1}]}}, "filter.a.$or: $or combines rules"),
        ({"a": {"$gt": 1, "b": 2}}, "filter.a: an object of operators cannot also hold plain keys"),
        ({"a..b": 1}, 'filter["a..b"]: a path cannot have an empty segment'),
        ({".a": 1}, 'filter[".a"]: a path cannot have an empty segment'),
        ({"a.": 1}, 'filter["a."]: a path cannot have an empty segment'),
        ({"": 1}, 'filter[""]: a path cannot have an empty segment'),
        ({"a.$b": 1}, "filter[\"a.$b\"]: the path segment '$b' cannot start with '$'."),
        ({"x" * 256: 1}, "filter." + "x" * 256 + ": a path may be at most 255 characters long."),
        ({1: 2}, "filter: keys must be strings, got a number."),
        ({"a": {"$eq": float("nan")}}, "filter.a.$eq: a non-finite number is not a JSON value."),
        ({"a": {"$in": [1, {2: 3}]}}, "filter.a.$in[1]: keys must be strings, got a number."),
        ({"a": {"b": object()}}, "filter.a.b: a object is not a JSON value."),
    ],
)
def test_invalid_rules_are_refused_naming_problem_and_place(rule, message):
    assert _error(rule).startswith(message)


def test_depth_is_capped():
    rule: dict = {"a": 1}
    for _ in range(MAX_DEPTH - 1):
        rule = {"$not": rule}
    _valid(rule)
    assert "rules nest deeper than 10 levels" in _error({"$and": [rule]})
    assert _error({"$or": [rule]}).startswith("filter.$or[0]" + ".$not" * (MAX_DEPTH - 1))

    value: object = 1
    for _ in range(10):
        value = [value]
    _valid({"a": {"$in": value}})
    assert "a value nests deeper than 10 levels" in _error({"a": {"$in": [value]}})
    assert "a value nests deeper than 10 levels" in _error({"a": {"$eq": [value]}})


def test_a_very_deep_rule_is_refused_without_recursion_trouble():
    rule: dict = {"a": 1}
    for _ in range(100_000):
        rule = {"$not": rule}
    assert "deeper than 10 levels" in _error(rule)


def test_condition_count_is_capped():
    at_limit = {f"f{n}": n for n in range(MAX_CONDITIONS)}
    _valid(at_limit)
    assert _error({**at_limit, "one_more": {"$exists": True}}) == (
        f"filter: a filter may hold at most {MAX_CONDITIONS} conditions."
    )
    split = {"$or": [{f"f{n}": {"$gt": 1, "$lt": 9}} for n in range(MAX_CONDITIONS // 2 + 1)]}
    assert "at most 100 conditions" in _error(split)


def test_size_is_capped():
    _valid({"a": {"$in": ["x" * 1000] * 60}})
    message = _error({"a": {"$in": ["x" * 1000] * 70}})
    assert message.startswith("The filter is ")
    assert f"bytes of JSON; at most {MAX_SIZE} are allowed." in message
