"""Values every part of the local stack, the tests and the benchmarks share: one source each."""

from __future__ import annotations

import socket

# The official SignalR emulator's public development key (never a secret: it signs only tokens
# for the local emulator).
DEV_ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
