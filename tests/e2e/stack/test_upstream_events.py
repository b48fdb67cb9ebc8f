"""Client events through the local stack: official JS clients → emulator → the facade's
upstream receiver → the events queue (Azurite), read here instead of by the sample backend."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from clients.node_client import NodeClient, node_available
from devstack.child_stack import RunningStack, start_stack, stop_stack

pytestmark = [pytest.mark.stack, pytest.mark.skipif(not node_available(), reason="node_modules not installed")]


class EventsQueue:
    def __init__(self, stack: RunningStack) -> None:
        from azure.storage.queue import QueueClient

        settings = json.loads((stack.state_dir / "local.settings.json").read_text())["Values"]
        self.client = QueueClient.from_connection_string(settings["SIGNALR_COMMANDS_STORAGE"],
                                                         settings["SIGNALR_EVENTS_QUEUE"])
        self.read: list[dict] = []

    def drain(self, count: int, timeout: float = 60.0) -> list[dict]:
        """Read (and delete) until ``count`` events were read in all; then check that no more come."""
        deadline = time.monotonic() + timeout
        while len(self.read) < count and time.monotonic() < deadline:
            self._receive_once()
        time.sleep(1.0)
        self._receive_once()
        return self.read

    def _receive_once(self) -> None:
        got = False
        for message in self.client.receive_messages(max_messages=32, visibility_timeout=60):
            self.read.append(json.loads(message.content))
            self.client.delete_message(message)
            got = True
        if not got:
            time.sleep(0.1)


@pytest.fixture(scope="module")
def quiet_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("devstack-events"), "--no-backend")
    yield stack
    stop_stack(stack)


@pytest.fixture
def events(quiet_stack: RunningStack) -> EventsQueue:
    queue = EventsQueue(quiet_stack)
    queue.client.clear_messages()
    return queue


def of(events: list[dict], connection_id: str) -> list[dict]:
    return [e for e in events if e["connectionId"] == connection_id]


def test_connect_send_invoke_stop_each_land_on_the_queue_once(quiet_stack, events):
    arguments = ["ana", {"text": "olá 👋", "n": [1, 2.5, None, True]}]
    client = NodeClient(quiet_stack.hub_url, quiet_stack.token("--user", "ana"), name="ana").start()
    try:
        client.send("newMessage", *arguments)
        client.invoke("whoIsHere", "room-1", id="i-1")
        invoked = client.events.wait_event("invoked", timeout=15)
    finally:
        client.stop()
    assert invoked["result"] is None  # the receiver answers 204: an empty Completion
    read = of(events.drain(4), client.connection_id)
    assert [(e["category"], e["event"]) for e in read] == [
        ("connections", "connected"), ("messages", "newMessage"), ("messages", "whoIsHere"),
        ("connections", "disconnected")]
    connected, sent, invoke, disconnected = read
    assert all(e["hub"] == "chat" and e["userId"] == "ana" and e["authenticatedBy"] == "signature" for e in read)
    assert sent["arguments"] == arguments
    assert sent["invocationId"] is None
    assert invoke["arguments"] == ["room-1"]
    assert invoke["invocationId"]
    assert disconnected["error"] is None
    assert len({e["id"] for e in read}) == 4
    # the emulator forwards the raw query (id=<connection token> included); the receiver drops it
    assert all({pair.split("=")[0] for pair in (e["clientQuery"] or "").split("&")}.isdisjoint({"id", "access_token"})
               for e in read)


def test_a_messagepack_client_round_trips_through_the_local_stack(quiet_stack, events):
    # The official JS client with MessagePackHubProtocol: the emulator posts its invocations as
    # application/x-msgpack, the receiver queues the same JSON envelope as for a JSON client.
    arguments = ["ana", {"text": "olá 👋", "n": [1, 2.5, None, True]}]
    client = NodeClient(quiet_stack.hub_url, quiet_stack.token("--user", "ana"), name="ana",
                        protocol="messagepack").start()
    try:
        client.send("newMessage", *arguments)
        client.invoke("whoIsHere", "room-1", id="i-mp")
        assert client.events.wait_event("invoked", timeout=15)["result"] is None
    finally:
        client.stop()
    read = of(events.drain(4), client.connection_id)
    assert [(e["event"], e["arguments"], e["invocationId"] is not None) for e in read] == [
        ("connected", None, False), ("newMessage", arguments, False), ("whoIsHere", ["room-1"], True),
        ("disconnected", None, False)]


def test_hundreds_of_events_arrive_exactly_once(quiet_stack, events):
    clients_count, per_client = 4, 75
    clients = [NodeClient(quiet_stack.hub_url, quiet_stack.token("--user", f"user-{i}"), name=f"c{i}").start()
               for i in range(clients_count)]
    try:
        for n in range(per_client):
            for i, client in enumerate(clients):
                client.send("newMessage", f"c{i}", n)
        # The JS client drops sends still queued when stop() is called, so each client first
        # waits for an invoke: it completes only after the sends before it were delivered.
        for client in clients:
            client.invoke("flush", id="flush")
        for client in clients:
            assert client.events.wait_event("invoked", timeout=60)["id"] == "flush"
    finally:
        for client in clients:
            client.stop()
    expected = clients_count * (per_client + 3)
    read = events.drain(expected, timeout=120)
    assert len(read) == expected  # none lost, none doubled
    assert len({e["id"] for e in read}) == expected
    for i, client in enumerate(clients):
        mine = of(read, client.connection_id)
        kinds = Counter(e["event"] for e in mine)
        assert kinds == {"connected": 1, "newMessage": per_client, "flush": 1, "disconnected": 1}
        # One connection's events are posted one at a time, so they keep the client's order.
        assert [e["arguments"] for e in mine if e["event"] == "newMessage"] == [[f"c{i}", n]
                                                                               for n in range(per_client)]
