"""Each send reaches exactly the clients it should, with the official JS client and signalrcore."""

from __future__ import annotations

from typing import Any

from devstack.emulator import EmulatorServer

from .conftest import Connect, Rest

HUB = "/api/v1/hubs/chat"


def received(clients: list[Any], rest: Rest) -> dict[str, list[Any]]:
    """What each client got before a closing broadcast (per-connection order is kept, so once
    the sentinel arrives everything sent earlier has arrived too)."""
    assert rest.send(HUB, "sentinel").status_code == 202
    result = {}
    for client in clients:
        client.events.wait_for(lambda e: e.get("target") == "sentinel", 15)
        messages = client.events.messages()
        result[client.name] = [(m["target"], m["arguments"]) for m in messages if m["target"] != "sentinel"]
    return result


def test_broadcast_reaches_every_connection_except_the_excluded(connect: Connect, rest: Rest) -> None:
    a, b, c = connect("ann", name="a"), connect("bob", name="b"), connect("cat", name="c")

    assert rest.send(HUB, "news", "all", 1).status_code == 202
    query = f"excluded={b.connection_id}&excluded={c.connection_id}"
    assert rest.send(HUB, "news", "some", query=query).status_code == 202

    got = received([a, b, c], rest)
    assert got["a"] == [("news", ["all", 1]), ("news", ["some"])]
    assert got["b"] == [("news", ["all", 1])]
    assert got["c"] == [("news", ["all", 1])]


def test_send_to_user_reaches_all_of_that_users_connections_only(connect: Connect, rest: Rest) -> None:
    ann1, ann2, bob = connect("ann", name="ann1"), connect("ann", name="ann2"), connect("bob", name="bob")

    assert rest.send(f"{HUB}/users/ann", "dm", {"text": "hi"}).status_code == 202

    got = received([ann1, ann2, bob], rest)
    assert got == {"ann1": [("dm", [{"text": "hi"}])], "ann2": [("dm", [{"text": "hi"}])], "bob": []}


def test_send_to_connection_reaches_only_that_connection(connect: Connect, rest: Rest) -> None:
    one, two = connect("ann", name="one"), connect("ann", name="two")

    assert rest.send(f"{HUB}/connections/{one.connection_id}", "direct", 42).status_code == 202

    assert received([one, two], rest) == {"one": [("direct", [42])], "two": []}


def test_send_to_group_reaches_members_except_the_excluded(connect: Connect, rest: Rest) -> None:
    a, b, c, outsider = (connect(u, name=u) for u in ("ann", "bob", "cat", "dan"))
    for client in (a, b):
        assert rest("PUT", f"{HUB}/groups/room/connections/{client.connection_id}").status_code == 200
    assert rest("PUT", f"{HUB}/groups/room/users/cat").status_code == 202  # through the user

    assert rest.send(f"{HUB}/groups/room", "say", "everyone").status_code == 202
    assert rest.send(f"{HUB}/groups/room", "say", "not bob", query=f"excluded={b.connection_id}").status_code == 202

    got = received([a, b, c, outsider], rest)
    assert got["ann"] == [("say", ["everyone"]), ("say", ["not bob"])]
    assert got["bob"] == [("say", ["everyone"])]
    assert got["cat"] == [("say", ["everyone"]), ("say", ["not bob"])]
    assert got["dan"] == []


def test_close_connection_sends_the_reason_and_forgets_the_connection(
    connect: Connect, rest: Rest, emulator: EmulatorServer
) -> None:
    doomed, survivor = connect("ann", name="doomed"), connect("bob", name="survivor")
    path = f"{HUB}/connections/{doomed.connection_id}"

    assert rest("DELETE", path, query="reason=maintenance%20window").status_code == 202

    closed = doomed.events.wait_event("closed", 15)
    assert "maintenance window" in closed["error"]
    assert rest("GET", path).status_code == 404
    assert rest("GET", f"{HUB}/connections/{survivor.connection_id}").status_code == 200
    assert survivor.events.all()[-1]["event"] == "connected"


def test_a_client_that_invokes_in_serverless_mode_is_closed(connect: Connect, rest: Rest) -> None:
    chatty = connect("ann", name="chatty")

    chatty.send("echo", "hello")

    closed = chatty.events.wait_event("closed", 15)
    assert "serverless" in (closed["error"] or "")
    assert rest("GET", f"{HUB}/connections/{chatty.connection_id}").status_code == 404
