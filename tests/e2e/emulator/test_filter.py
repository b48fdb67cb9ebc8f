"""The emulator's own filter evaluator, on a table of connections and filters."""

from __future__ import annotations

import pytest

from devstack.emulator.filter import View, compile_filter

CONNECTIONS = [
    View("user1", "c1", frozenset({"group1"})),
    View("USER1", "c2", frozenset()),
    View("user-ab-de", "c3", frozenset({"group1", "group2"})),
    View(None, "c4", frozenset({"group2"})),
    View("it's", "c5", frozenset()),
]

CASES = [
    ("userId eq 'user1'", {"c1"}),
    ("tolower(userId) eq 'user1'", {"c1", "c2"}),
    ("userId eq null", {"c4"}),
    ("userId ne null and length(groups) gt 1", {"c3"}),
    ("'group1' in groups", {"c1", "c3"}),
    ("'group2' in groups and not ('group1' in groups)", {"c4"}),
    ("userId in ('user1', 'USER1')", {"c1", "c2"}),
    ("substring(userId,5,2) eq 'ab'", {"c3"}),
    ("indexof(userId,'-ab-') ge 0", {"c3"}),
    ("startswith(userId, 'user') and endswith(userId, 'de')", {"c3"}),
    ("userId eq 'it''s'", {"c5"}),
    ("connectionId eq 'c2' or connectionId eq 'c4'", {"c2", "c4"}),
    ("length(userId) le 5 and length(userId) gt 3", {"c1", "c2", "c5"}),
    ("true", {"c1", "c2", "c3", "c4", "c5"}),
    ("false", set()),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_filter_matches_exactly_the_connections_it_describes(text, expected):
    matches = compile_filter(text)
    assert {view.connectionId for view in CONNECTIONS if matches(view)} == expected
