"""The facade's filter checker against a table of valid, invalid and hostile filters."""

from __future__ import annotations

import time

import pytest

from devstack.emulator.filter import FilterSyntaxError, compile_filter
from functions.catalog.odata.filter import MAX_DEPTH, MAX_FILTER_LENGTH, FilterError, check_filter

# Every example of the Web PubSub filter reference, and more.
VALID = [
    "userId eq 'user1'", "connectionId ne '123'", "'group1' in groups", "userId eq null", "userId ne null",
    "length(userId) le 10 and length(userId) gt 3", "length(userId) gt 10 or length(userId) le 3",
    "not endswith(userId, 'milk')", "userId in ('user1', 'user2', 'user3') and 'group1' in groups",
    "userId eq 'user1' or (not (startswith(userId,'user2')))", "tolower(userId) eq 'user1'",
    "toupper(userId) eq 'USER1'", "trim(userId) eq 'user1'", "substring(userId,5,2) eq 'ab'",
    "substring(userId, 5) eq 'ab'", "endswith(userId,'de')", "startswith(userId, 'listener-')",
    "indexof(userId,'-ab-') ge 0", "length(groups) gt 1", "userId eq 'user''1'", "true", "false",
    "userId eq 'user1' and (not ('group1' in groups))", "'g' in (groups)", "contains(connectionId, 'x')",
    "concat(userId, '-x') eq 'a-x'", "length(userId) lt -1", "((userId eq 'a'))", "userId eq 'é ü 漢'",
    "'group1' in groups or 'group2' in groups or 'group3' in groups", "userId\teq\t'a'",
]
# (filter, the character where it breaks, words the message must hold)
INVALID = [
    ("", 1, "empty"),
    ("   ", 1, "empty"),
    ("userId", 1, "true/false"),
    ("userId eq", 10, "expected a value"),
    ("userId eq 'x", 11, "not closed"),
    ("userId eq 'it''s", 11, "not closed"),
    ("'", 1, "not closed"),
    ("userId eq 1", 8, "cannot compare"),
    ("userId gt true", 8, "cannot compare"),
    ("not length(userId) gt 5", 5, "parentheses"),
    ("foo eq 'a'", 1, "unknown name"),
    ("userId eq 'a' and", 18, "expected a value"),
    ("userId eq 'a' 'b'", 15, "expected 'and', 'or'"),
    ("'a' in userId", 8, "collection"),
    ("groups eq 'a'", 1, "not collection"),
    ("length(userId, 'x') eq 1", 14, "')'"),
    ("substring(userId, 'a') eq 'b'", 19, "integer literal"),
    ("startswith(userId) ", 18, "','"),
    ("(userId eq 'a'", 15, "')'"),
    ("userId eq 'a')", 14, "expected 'and', 'or'"),
    ("userId eq 99999999999", 11, "32-bit"),
    ("userId eq \"a\"", 11, "unexpected character"),
    ("userId eq 'a' && true", 15, "unexpected character"),
    ("userId eq 'a'\n", 14, "control"),
    ("userId in ()", 12, "expected a value"),
    ("userId in ('a',)", 16, "expected a value"),
    ("and", 1, "operator"),
    ("userId eq - 1", 11, "sign"),
]
HOSTILE = [
    "(" * 5000,
    "(" * 40 + "true" + ")" * 40,
    "not " * 400 + "true",
    "'" + "x" * (MAX_FILTER_LENGTH + 10) + "'",
    "'" * 2047,
    "userId eq '" + "''" * 1000,
    "length(" * 300 + "userId" + ")" * 300 + " gt 1",
    "userId in (" + ",".join(["'a'"] * 600) + ")",
    "\ud800",
    "x" * 100_000,
]


@pytest.mark.parametrize("text", VALID)
def test_documented_filters_are_accepted_by_the_facade_and_the_emulator(text):
    assert check_filter(text) == text
    compile_filter(text)


@pytest.mark.parametrize(("text", "position", "words"), INVALID, ids=[c[0] or "(empty)" for c in INVALID])
def test_invalid_filters_are_refused_saying_where(text, position, words):
    with pytest.raises(FilterError) as caught:
        check_filter(text)
    assert caught.value.position == position, str(caught.value)
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"at character {position}: ")


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: f"{t[:12]!r}x{len(t)}")
def test_hostile_filters_are_refused_quickly_never_crashing(text):
    started = time.perf_counter()
    with pytest.raises(FilterError) as caught:
        check_filter(text)
    assert time.perf_counter() - started < 1.0
    assert len(str(caught.value)) < 300


def test_nesting_up_to_the_bound_is_accepted_and_one_more_is_not():
    check_filter("(" * MAX_DEPTH + "true" + ")" * MAX_DEPTH)
    with pytest.raises(FilterError, match="deeper"):
        check_filter("(" * (MAX_DEPTH + 1) + "true" + ")" * (MAX_DEPTH + 1))


def test_the_emulator_refuses_what_it_cannot_parse():
    for text in ("userId eq", "(userId eq 'a'", "foo eq 1", "(" * 100 + "true" + ")" * 100):
        with pytest.raises(FilterSyntaxError):
            compile_filter(text)
