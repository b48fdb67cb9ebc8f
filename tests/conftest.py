"""Fixtures shared by every test area, named after what they return."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.recording_upstream import RecordingUpstream

DEV_ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"  # the public emulator dev key


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[RecordingUpstream]:
    server = RecordingUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def upstream(upstream_server: RecordingUpstream) -> Iterator[RecordingUpstream]:
    """The SignalR stand-in, with a clean log and script for each test."""
    upstream_server.reset()
    yield upstream_server
    upstream_server.reset()


@pytest.fixture
def connection_string(upstream: RecordingUpstream) -> str:
    return f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={DEV_ACCESS_KEY};Version=1.0;"
