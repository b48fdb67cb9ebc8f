"""A batch through the whole local stack: the official JavaScript client connects through the
facade's negotiate, and one POST /api/v1/batch of sends to different users reaches exactly the
right connections, each once."""

from __future__ import annotations

import time

import pytest

from clients.node_client import NodeClient, node_available

pytestmark = pytest.mark.skipif(not node_available(), reason="node_modules not installed (run make setup)")

SETTLE = 1.0  # seconds to wait for messages that must NOT arrive
# connection name -> user; "kim" has two connections, "lee" none.
CONNECTIONS = {"ivy": "ivy", "jon": "jon", "kim": "kim", "kim2": "kim"}


def texts(client) -> list[str]:
    return [e["arguments"][0] for e in client.events.messages() if e["target"] == "batchMessage"]


@pytest.fixture(scope="module")
def user_clients(local_stack):
    started = {}
    try:
        for name, user in CONNECTIONS.items():
            started[name] = NodeClient(local_stack.hub_url, local_stack.token("--user", user), name=name).start()
        yield started
    finally:
        for client in started.values():
            client.stop()


def test_a_batch_of_sends_to_different_users_reaches_exactly_their_connections_once(local_stack, user_clients):
    users = ["ivy", "jon", "kim", "lee"]
    items = [{"operation": "sendToUser", "hub": "chat", "user": user, "id": f"to-{user}",
              "payload": {"target": "batchMessage", "arguments": [f"for {user}"]}} for user in users]
    response = local_stack.call("POST", "/api/v1/batch", local_stack.token(), json=items)
    assert response.status_code == 207, response.text
    assert [(r["id"], r["status"]) for r in response.json()["results"]] == [(f"to-{u}", 202) for u in users]

    expected = {name: [f"for {user}"] for name, user in CONNECTIONS.items()}
    deadline = time.monotonic() + 10
    while any(texts(user_clients[name]) != want for name, want in expected.items()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(SETTLE)
    assert {name: texts(client) for name, client in user_clients.items()} == expected
