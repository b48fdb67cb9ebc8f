"""Fixtures for tests of the whole local stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.child_stack import RunningStack, start_stack, stop_stack


@pytest.fixture(scope="session")

def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("devstack"))
    yield stack
    stop_stack(stack)
