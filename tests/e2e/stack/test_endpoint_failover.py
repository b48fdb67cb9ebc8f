"""Two SignalR emulators behind the local stack, with the official JS client: routing and failover."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from clients.node_client import NodeClient, node_available
from devstack.constants import DEV_ACCESS_KEY, free_port
from devstack.stack import Ports, Stack
from functions.signalr.credentials import AccessKeyCredential

pytestmark = pytest.mark.skipif(not node_available(), reason="node_modules not installed (run make setup)")

USERS = ("ann", "ben", "cat", "dan")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ports = Ports(*(free_port() for _ in range(6)))
    running = Stack(ports, tmp_path_factory.mktemp("two-endpoints"), quiet=True, extra_emulator_ports=(free_port(),))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def token(stack: Stack, **claims) -> str:
    from devstack.idp import ALL_PERMISSIONS, mint_from_state

    return mint_from_state(stack.idp_state, roles=list(ALL_PERMISSIONS), **claims)


def call(stack: Stack, method: str, path: str, **kwargs) -> requests.Response:
    response = requests.request(method, f"{stack.base_url}/api/{path}", timeout=15,
                                headers={"Authorization": f"Bearer {token(stack)}"}, **kwargs)
    assert response.status_code < 500 or response.status_code == 503, response.text  # never a 500
    return response


def emulator_holding(stack: Stack, connection_id: str) -> int:
    """Which emulator (its port) holds a connection, asked directly of each."""
    holders = []
    for port in (stack.ports.emulator, *stack.extra_emulator_ports):
        url = f"http://127.0.0.1:{port}/api/v1/hubs/chat/connections/{connection_id}"
        try:
            bearer = AccessKeyCredential(DEV_ACCESS_KEY).bearer(url)
            answer = requests.head(url, headers={"Authorization": f"Bearer {bearer}"}, timeout=5)
        except requests.ConnectionError:
            continue
        if answer.status_code == 200:
            holders.append(port)
    assert len(holders) == 1
    return holders[0]


def connect(stack: Stack, user: str) -> NodeClient:
    return NodeClient(f"{stack.base_url}/api/v1/hubs/chat", token(stack, user=user), name=user).start()


def texts(client: NodeClient) -> list[str]:
    return [e["arguments"][0] for e in client.events.messages() if e["target"] == "note"]


def send_and_collect(stack: Stack, clients: dict[str, NodeClient], path: str, text: str, expected: set[str]) -> None:
    assert call(stack, "POST", path, json={"target": "note", "arguments": [text]}).status_code == 202
    deadline = time.monotonic() + 10
    got: set[str] = set()
    while got != expected and time.monotonic() < deadline:
        got = {name for name, client in clients.items() if text in texts(client)}
        time.sleep(0.05)
    time.sleep(0.5)  # nothing more, and nothing twice
    assert {name for name, client in clients.items() if text in texts(client)} == expected
    assert all(texts(clients[name]).count(text) == 1 for name in expected)


def test_clients_on_both_endpoints_get_every_send_and_a_stopped_endpoint_fails_over(stack):
    clients: dict[str, NodeClient] = {}
    try:
        for user in USERS:
            clients[user] = connect(stack, user)
        where = {user: emulator_holding(stack, client.connection_id) for user, client in clients.items()}
        first, second = stack.ports.emulator, stack.extra_emulator_ports[0]
        assert set(where.values()) == {first, second}  # negotiate spreads over the two primaries
        on_first = sorted(u for u, p in where.items() if p == first)
        on_second = sorted(u for u, p in where.items() if p == second)

        send_and_collect(stack, clients, "v1/hubs/chat", "to all", set(USERS))
        for user in (on_first[0], on_second[0]):
            assert call(stack, "PUT", f"v1/hubs/chat/groups/team/users/{user}").status_code == 202
        send_and_collect(stack, clients, "v1/hubs/chat/groups/team", "to team", {on_first[0], on_second[0]})
        send_and_collect(stack, clients, f"v1/hubs/chat/users/{on_second[0]}", "to one", {on_second[0]})

        stack.extra_emulators[0].kill()  # the outage: one SignalR instance goes away at once
        stack.extra_emulators[0].wait(timeout=10)
        for user in on_second:
            clients[user].events.wait_event("closed", timeout=15)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            health = requests.get(f"{stack.base_url}/api/health", timeout=10,  # names need SignalR.Read
                                  headers={"Authorization": f"Bearer {token(stack)}"})
            states = {e["name"]: e["status"] for e in health.json()["checks"]["upstream"]["endpoints"]}
            if states == {"default": "up", "emulator2": "down"}:
                break
            time.sleep(0.5)
        assert (health.status_code, states) == (200, {"default": "up", "emulator2": "down"})

        for user in on_second:  # they reconnect through negotiate: to the endpoint still up
            clients[user].stop()
            clients[user] = connect(stack, user)
            assert emulator_holding(stack, clients[user].connection_id) == first
        send_and_collect(stack, clients, "v1/hubs/chat", "after the outage", set(USERS))
        send_and_collect(stack, clients, f"v1/hubs/chat/users/{on_second[0]}", "to one again", {on_second[0]})
    finally:
        for client in clients.values():
            client.stop()
