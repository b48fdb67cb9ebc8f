"""The local stack end to end: official clients connect through the facade's negotiate and
every send reaches exactly the clients it should."""

from __future__ import annotations

import time

import pytest

from clients.node_client import NodeClient, node_available
from clients.signalrcore_client import SignalRCoreClient

pytestmark = pytest.mark.skipif(not node_available(), reason="node_modules not installed (run make setup)")

SETTLE = 1.0  # seconds to wait for messages that must NOT arrive


def message(text: str) -> dict:
    return {"target": "newMessage", "arguments": ["test", text]}


def texts(client) -> list[str]:
    return [e["arguments"][1] for e in client.events.messages() if e["target"] == "newMessage"]


def received(clients, text: str) -> set[str]:
    return {name for name, client in clients.items() if text in texts(client)}


def deliver(stack, sender_token, clients, method, path, text, expected, query=None):
    response = stack.call(method, path, sender_token, json=message(text), params=query)
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 10
    while received(clients, text) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(SETTLE)
    assert received(clients, text) == expected
    for name in expected:  # exactly once
        assert texts(clients[name]).count(text) == 1


@pytest.fixture(scope="module")
def admin_token(local_stack):
    return local_stack.token()  # no --role: every permission


@pytest.fixture(scope="module")
def clients(local_stack):
    started = {}
    try:
        for name, user in (("alice", "alice"), ("bob", "bob"), ("bob2", "bob")):
            started[name] = NodeClient(local_stack.hub_url, local_stack.token("--user", user), name=name).start()
        python = SignalRCoreClient(local_stack.hub_url, local_stack.token("--user", "dave"), name="dave").start()
        started["dave"] = python
        yield started
    finally:
        for client in started.values():
            client.stop()


def test_the_stack_answers_health_and_openapi(local_stack):
    import requests

    health = requests.get(local_stack.base_url + "/api/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "healthy"
    assert requests.get(local_stack.base_url + "/api/openapi.json", timeout=10).json()["openapi"] == "3.1.0"


def test_the_facade_reaches_signalr_the_way_the_mode_says(local_stack):
    import json

    settings = json.loads((local_stack.state_dir / "local.settings.json").read_text())["Values"]
    connection = settings["AzureSignalRConnectionString"]
    if local_stack.managed_identity:
        assert "AuthType=azure.msi;ClientId=" in connection
        assert "AccessKey" not in connection
        assert settings["IDENTITY_ENDPOINT"].startswith(f"http://127.0.0.1:{local_stack.ports['identity']}/")
    else:
        assert "AccessKey=" in connection
        assert "IDENTITY_ENDPOINT" not in settings


def test_broadcast_reaches_every_client_of_both_official_clients(local_stack, admin_token, clients):
    deliver(local_stack, admin_token, clients, "POST", "/api/v1/hubs/chat", "to all", set(clients))


def test_broadcast_with_excluded_skips_those_connections(local_stack, admin_token, clients):
    deliver(local_stack, admin_token, clients, "POST", "/api/v1/hubs/chat", "not alice",
            set(clients) - {"alice"}, query={"excluded": [clients["alice"].connection_id]})


def test_send_to_user_reaches_all_of_that_users_connections_only(local_stack, admin_token, clients):
    deliver(local_stack, admin_token, clients, "POST", "/api/v1/hubs/chat/users/bob", "to bob", {"bob", "bob2"})


def test_send_to_connection_reaches_only_it(local_stack, admin_token, clients):
    connection = clients["bob2"].connection_id
    deliver(local_stack, admin_token, clients, "POST", f"/api/v1/hubs/chat/connections/{connection}", "to bob2",
            {"bob2"})


def test_connection_groups_with_excluded(local_stack, admin_token, clients):
    alice, bob = clients["alice"].connection_id, clients["bob"].connection_id
    for connection in (alice, bob):
        assert local_stack.call("PUT", f"/api/v1/hubs/chat/groups/room-1/connections/{connection}",
                                admin_token).status_code == 200
    assert local_stack.call("GET", "/api/v1/hubs/chat/groups/room-1", admin_token).status_code == 200
    deliver(local_stack, admin_token, clients, "POST", "/api/v1/hubs/chat/groups/room-1", "room", {"alice", "bob"})
    deliver(local_stack, admin_token, clients, "POST", "/api/v1/hubs/chat/groups/room-1", "room but bob",
            {"alice"}, query={"excluded": [bob]})
    assert local_stack.call("DELETE", f"/api/v1/hubs/chat/groups/room-1/connections/{bob}",
                            admin_token).status_code == 200
    deliver(local_stack, admin_token, clients, "POST", "/api/v1/hubs/chat/groups/room-1", "room after leave",
            {"alice"})


def test_user_groups_reach_the_python_client_and_checks_follow_state(local_stack, admin_token, clients):
    path = "/api/v1/hubs/chat/groups/python%20fans/users/dave"
    assert local_stack.call("GET", path, admin_token).status_code == 404
    assert local_stack.call("PUT", path, admin_token, params={"ttl": "600"}).status_code == 202
    assert local_stack.call("GET", path, admin_token).status_code == 200
    assert local_stack.call("HEAD", path, admin_token).status_code == 200
    deliver(local_stack, admin_token, clients, "POST", "/api/v1/hubs/chat/groups/python%20fans", "py", {"dave"})
    assert local_stack.call("DELETE", path, admin_token).status_code == 202
    assert local_stack.call("GET", path, admin_token).status_code == 404
    deliver(local_stack, admin_token, clients, "POST", "/api/v1/hubs/chat/groups/python%20fans", "py gone", set())


def test_existence_checks_answer_as_the_state_is(local_stack, admin_token, clients):
    alice = clients["alice"].connection_id
    assert local_stack.call("GET", f"/api/v1/hubs/chat/connections/{alice}", admin_token).status_code == 200
    assert local_stack.call("GET", "/api/v1/hubs/chat/connections/nope", admin_token).status_code == 404
    assert local_stack.call("GET", "/api/v1/hubs/chat/users/bob", admin_token).status_code == 200
    assert local_stack.call("GET", "/api/v1/hubs/chat/users/nobody", admin_token).status_code == 404
    assert local_stack.call("GET", "/api/v1/hubs/chat/groups/empty-room", admin_token).status_code == 404
    assert local_stack.call("PUT", "/api/v1/hubs/chat/groups/g/connections/nope", admin_token).status_code == 404


def test_remove_user_from_all_groups(local_stack, admin_token, clients):
    for group in ("a", "b"):
        local_stack.call("PUT", f"/api/v1/hubs/chat/groups/{group}/users/bob", admin_token)
    assert local_stack.call("DELETE", "/api/v1/hubs/chat/users/bob/groups", admin_token).status_code in (200, 202)
    assert local_stack.call("GET", "/api/v1/hubs/chat/groups/a/users/bob", admin_token).status_code == 404


def test_close_connection_with_reason_closes_that_client(local_stack, admin_token):
    client = NodeClient(local_stack.hub_url, local_stack.token("--user", "erin"), name="erin").start()
    try:
        response = local_stack.call("DELETE", f"/api/v1/hubs/chat/connections/{client.connection_id}", admin_token,
                                    params={"reason": "maintenance"})
        assert response.status_code == 202
        closed = client.events.wait_event("closed", timeout=10)
        assert "maintenance" in (closed.get("error") or "")
        deadline = time.monotonic() + 5
        status = None
        while time.monotonic() < deadline:
            status = local_stack.call("GET", f"/api/v1/hubs/chat/connections/{client.connection_id}",
                                      admin_token).status_code
            if status == 404:
                break
            time.sleep(0.1)
        assert status == 404
    finally:
        client.stop()


def test_negotiate_refuses_a_missing_token(local_stack):
    import requests

    assert requests.post(local_stack.hub_url + "/negotiate?negotiateVersion=1", timeout=10).status_code == 401


def test_a_token_without_the_permission_is_403_and_sends_nothing(local_stack, clients):
    reader = local_stack.token("--role", "SignalR.Read")
    assert local_stack.call("POST", "/api/v1/hubs/chat", reader, json=message("forbidden")).status_code == 403
    time.sleep(SETTLE)
    assert received(clients, "forbidden") == set()
