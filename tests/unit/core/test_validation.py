from __future__ import annotations

import json

import pytest

from functions.catalog.operations import OPERATIONS_BY_NAME
from functions.core.command import MAX_BODY_BYTES, build_command, check_body_size, parse_json
from functions.core.errors import PayloadTooLarge, ValidationError
from functions.core.json_input import MAX_DEPTH, nesting_depth

BODY = {"target": "t", "arguments": []}


def command(op, inputs, payload=None):
    return build_command(OPERATIONS_BY_NAME[op], inputs, payload)


def rejected_fields(op, inputs, payload=None) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        command(op, inputs, payload)
    return [e.field for e in caught.value.errors]


@pytest.mark.parametrize("hub", ["a", "Chat", "chat_1", "A" * 128, "x9_"])
def test_hub_accepted(hub):
    assert command("broadcast", {"hub": hub}, BODY).hub == hub


@pytest.mark.parametrize("hub", ["", "1chat", "_chat", "chat-room", "chat room", "A" * 129, "ch\u00e4t", "chat/x"])
def test_hub_rejected(hub):
    assert rejected_fields("broadcast", {"hub": hub}, BODY) == ["hub"]


@pytest.mark.parametrize("group", ["g", " g ", "a/../b?x=1#y", "g" * 1024, "\u00e9t\u00e9"])
def test_group_accepted(group):
    assert command("sendToGroup", {"hub": "h", "group": group}, BODY).args["group"] == group


@pytest.mark.parametrize("group", ["", " ", "\t\n", "g" * 1025])
def test_group_rejected(group):
    assert rejected_fields("sendToGroup", {"hub": "h", "group": group}, BODY) == ["group"]


@pytest.mark.parametrize("field", ["user", "connectionId"])
@pytest.mark.parametrize("value", ["u", "u" * 1024, "a b", "user@example.com", "x/y"])
def test_ids_accepted(field, value):
    op = "userExists" if field == "user" else "connectionExists"
    assert command(op, {"hub": "h", field: value}).args[field] == value


@pytest.mark.parametrize("field", ["user", "connectionId"])
@pytest.mark.parametrize("value", ["", "u" * 1025, "a\nb", "a\x00", "a\x7f", "a\x85"])
def test_ids_rejected(field, value):
    op = "userExists" if field == "user" else "connectionExists"
    assert rejected_fields(op, {"hub": "h", field: value}) == [field]


def test_excluded_at_the_limit_and_over():
    assert len(command("broadcast", {"hub": "h", "excluded": ["c"] * 100}, BODY).args["excluded"]) == 100
    assert rejected_fields("broadcast", {"hub": "h", "excluded": ["c"] * 101}, BODY) == ["excluded"]


def test_each_excluded_id_is_checked():
    assert rejected_fields("broadcast", {"hub": "h", "excluded": ["ok", ""]}, BODY) == ["excluded"]
    assert rejected_fields("broadcast", {"hub": "h", "excluded": "c1"}, BODY) == ["excluded"]


@pytest.mark.parametrize(("ttl", "expected"), [("0", 0), ("31536000", 31536000), (60, 60), ("007", 7)])
def test_ttl_accepted(ttl, expected):
    cmd = command("addUserToGroup", {"hub": "h", "group": "g", "user": "u", "ttl": ttl})
    assert cmd.args["ttl"] == expected


@pytest.mark.parametrize("ttl", ["-1", "31536001", "1.5", "1e3", " 5", "+5", "", "abc", True, 2.0, -1, "\u0662"])
def test_ttl_rejected(ttl):
    assert rejected_fields("addUserToGroup", {"hub": "h", "group": "g", "user": "u", "ttl": ttl}) == ["ttl"]


def test_reason_boundary():
    ok = command("closeConnection", {"hub": "h", "connectionId": "c", "reason": "r" * 1024})
    assert len(ok.args["reason"]) == 1024
    assert rejected_fields("closeConnection", {"hub": "h", "connectionId": "c", "reason": "r" * 1025}) == ["reason"]


@pytest.mark.parametrize(
    ("payload", "target", "arguments"),
    [
        ({"target": "t"}, "t", []),
        ({"Target": "t", "Arguments": [1, "x"]}, "t", [1, "x"]),
        ({"target": "t", "arguments": [{"a": None}]}, "t", [{"a": None}]),
    ],
)
def test_payload_accepted_in_both_spellings_and_forwarded_in_pascal_case(payload, target, arguments):
    cmd = command("broadcast", {"hub": "h"}, payload)
    assert cmd.payload.upstream() == {"Target": target, "Arguments": arguments}


@pytest.mark.parametrize(
    "payload",
    [
        [], "x", {}, {"target": ""}, {"target": "  "}, {"target": 5}, {"target": "t", "arguments": {}},
        {"target": "t", "Target": "t"}, {"target": "t", "extra": 1}, None,
    ],
)
def test_payload_rejected(payload):
    assert rejected_fields("broadcast", {"hub": "h"}, payload) == ["body"]


def test_every_broken_field_is_reported_at_once():
    assert sorted(rejected_fields("sendToGroup", {"hub": "1", "group": ""}, {})) == ["body", "group", "hub"]


def test_missing_required_parameters_are_named():
    assert sorted(rejected_fields("userInGroup", {})) == ["group", "hub", "user"]


def test_body_size_limit_is_one_megabyte():
    check_body_size(MAX_BODY_BYTES)
    with pytest.raises(PayloadTooLarge):
        check_body_size(MAX_BODY_BYTES + 1)


@pytest.mark.parametrize("text", ['{"a": 1, "a": 2}', '{"a": NaN}', "{", '{"a": Infinity}'])
def test_strict_json_refuses_duplicates_and_non_standard_numbers(text):
    with pytest.raises(ValidationError) as caught:
        parse_json(text)
    assert [e.field for e in caught.value.errors] == ["body"]


# -- I-JSON: depth and Unicode (hostile input never raises) -------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nesting_up_to_the_limit_is_accepted_and_one_more_level_is_not():
    assert parse_json(nested(MAX_DEPTH)) is not None
    with pytest.raises(ValidationError) as caught:
        parse_json(nested(MAX_DEPTH + 1))
    assert f"deeper than {MAX_DEPTH}" in caught.value.errors[0].message


@pytest.mark.parametrize(("value", "depth"), [
    (1, 0), ("x", 0), ([], 1), ({}, 1), ([[]], 2), ({"a": [1, {"b": []}]}, 4),
    ([1, [2, [3]], {"x": {"y": {"z": 1}}}], 4),
])
def test_nesting_depth_counts_the_deepest_branch(value, depth):
    assert nesting_depth(value) == depth


def test_objects_in_a_wide_document_count_at_their_own_depth():
    # 100 commands, each an object holding an object holding an array holding an object.
    commands = [{"payload": {"arguments": [i, {"a": [1]}]}} for i in range(100)]
    text = json.dumps(commands)
    assert nesting_depth(json.loads(text)) == 6
    assert parse_json(text) == commands
    wrapped: object = commands
    for _ in range(MAX_DEPTH - 6):
        wrapped = [wrapped]
    assert parse_json(json.dumps(wrapped)) == wrapped  # exactly the limit
    with pytest.raises(ValidationError):
        parse_json(json.dumps([wrapped]))


@pytest.mark.parametrize("text", [nested(5000), '{"a":' * 5000 + "1" + "}" * 5000, "[" * 200_000])
def test_json_nested_thousands_deep_is_a_validation_error_not_a_recursion_error(text):
    with pytest.raises(ValidationError):
        parse_json(text, "message")


@pytest.mark.parametrize(("text", "where"), [
    ('{"arguments": ["ok", "\\ud800"]}', "arguments[1]"),
    ('{"target": "\\udc00"}', "target"),
    ('{"a": {"\\udbff": 1}}', "a.(key)"),
])
def test_a_lone_surrogate_anywhere_is_refused_with_where_it_is(text, where):
    with pytest.raises(ValidationError) as caught:
        parse_json(text)
    assert caught.value.errors[0].field == "body"
    assert where in caught.value.errors[0].message


def test_a_surrogate_pair_is_one_valid_character():
    assert parse_json('["\\ud83d\\ude00"]') == ["\U0001f600"]


@pytest.mark.parametrize("field", ["group", "user", "connectionId"])
def test_route_values_that_are_not_valid_unicode_are_refused_by_name(field):
    op = {"group": "groupExists", "user": "userExists", "connectionId": "connectionExists"}[field]
    assert rejected_fields(op, {"hub": "chat", field: "a\ud800"}) == [field]


def test_a_reason_or_an_excluded_id_that_is_not_valid_unicode_is_refused():
    assert rejected_fields("closeConnection", {"hub": "h", "connectionId": "c", "reason": "\udfff"}) == ["reason"]
    assert rejected_fields("broadcast", {"hub": "h", "excluded": ["ok", "\ud800"]}, BODY) == ["excluded"]


@pytest.mark.parametrize("value", ["1" * 4301, "9" * 5000, "0" * 5000 + "1"], ids=["4301", "5000", "zeros"])
def test_a_ttl_of_thousands_of_digits_is_a_400_not_a_value_error(value):
    """Issue 22, item 7: 5,000 digits raised int()'s ValueError (a 500)."""
    assert rejected_fields("addUserToGroup", {"hub": "h", "group": "g", "user": "u", "ttl": value}) == ["ttl"]


@pytest.mark.parametrize("name", ["maxpagesize", "top"])
@pytest.mark.parametrize("value", ["9" * 5000, "0" * 5000 + "1", "\u0662"], ids=["5000", "zeros", "arabic-two"])
def test_numeric_paging_inputs_are_length_checked_before_conversion(name, value):
    """Issue 22, item 7: thousands of digits are a 400, never int()'s ValueError."""
    assert rejected_fields("listConnectionsInGroup", {"hub": "h", "group": "g", name: value}) == [name]


def test_a_filter_integer_of_thousands_of_digits_is_out_of_range_not_a_value_error():
    from functions.catalog.odata.filter import FilterError, check_filter

    with pytest.raises(FilterError, match="32-bit"):
        check_filter("userId eq " + "9" * 2000)


def test_an_upstream_content_length_of_thousands_of_digits_is_not_converted():
    from functions.upstream.receiver import UpstreamReceiver

    headers = {"Content-Length": "9" * 5000, "Content-Type": "application/json"}
    assert UpstreamReceiver.read_body(headers, b"{}") == (b"{}", False)
