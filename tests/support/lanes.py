"""Test lanes, declared once per folder: each lane's ``conftest.py`` marks every test below it.

    unit         in-process: the app's functions, a local OpenID server, stand-ins (no Node, no Azurite)
    integration  through the local Functions host and Azurite, and checkov over the templates
    e2e          the whole stack with the official SignalR clients and a real browser
    slow         fuzzing, the short soak, the benchmarks' smoke run

``make test-unit`` runs the first for the inner loop; ``make test`` runs them all (CI).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

LANES = ("unit", "integration", "e2e", "slow")


def lane(name: str) -> Callable[[pytest.Item], None]:
    """A ``pytest_itemcollected`` hook for a lane's conftest: pytest calls a folder's hooks for its own items only."""
    if name not in LANES:
        raise ValueError(f"unknown lane {name!r}; the lanes are {', '.join(LANES)}")

    def pytest_itemcollected(item: pytest.Item) -> None:
        item.add_marker(getattr(pytest.mark, name))

    return pytest_itemcollected


def lanes_of(item: pytest.Item) -> list[str]:
    return [mark.name for mark in item.iter_markers() if mark.name in LANES]
