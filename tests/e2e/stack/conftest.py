"""Fixtures for tests of the whole local stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.child_stack import RunningStack, start_stack, stop_stack


@pytest.fixture(scope="session", params=["access-key", "managed-identity"])
def local_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The whole stack, once per way the facade reaches SignalR: every stack test runs in both."""
    managed_identity = request.param == "managed-identity"
    stack = start_stack(tmp_path_factory.mktemp(request.param), managed_identity=managed_identity)
    yield stack
    stop_stack(stack)
