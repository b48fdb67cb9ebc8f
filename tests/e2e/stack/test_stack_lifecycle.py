"""The stack comes up from nothing and goes away clean: no process left, no port bound."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import requests

from clients.node_client import node_available
from devstack.child_stack import port_is_bound, start_stack, stop_stack

pytestmark = pytest.mark.skipif(not node_available(), reason="node_modules not installed (run make setup)")


def children_of(pid: int) -> set[int]:
    """Every live descendant of ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()


@pytest.mark.parametrize(("stop_signal", "managed_identity"),
                         [(signal.SIGINT, False), (signal.SIGTERM, True)], ids=["SIGINT-access-key", "SIGTERM-msi"])
def test_the_stack_starts_from_nothing_and_stops_clean(tmp_path, stop_signal, managed_identity):
    stack = start_stack(tmp_path, managed_identity=managed_identity)
    try:
        children = children_of(stack.process.pid)
        # azurite, identity provider, emulator, function host (+ the identity endpoint)
        assert len(children) >= 4 + managed_identity
        used = {name: port for name, port in stack.ports.items() if managed_identity or name != "identity"}
        assert all(port_is_bound(port) for port in used.values())
        assert requests.get(stack.base_url + "/", timeout=10).status_code == 200  # the demo page
        assert stack.token()  # the CLI mints from the running stack's keys
    finally:
        stack.process.send_signal(stop_signal)
        code = stop_stack(stack)
    assert code == 0
    assert not [pid for pid in children if alive(pid)]
    assert not [name for name, port in stack.ports.items() if port_is_bound(port)]
    assert any("stopped" in line for line in stack.output)
