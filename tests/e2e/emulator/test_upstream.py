"""The emulator calls an upstream as the service does, driven by the official JS client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from clients.node_client import NodeClient, node_available
from devstack.emulator import DEV_ACCESS_KEY, EmulatorServer
from devstack.emulator.upstream import Upstream, client_query
from functions.upstream.signature import is_signed
from support.event_sink import EventSink

from .conftest import FAST, client_token, server_token

pytestmark = [pytest.mark.stack,
              pytest.mark.skipif(not node_available(), reason="node and @microsoft/signalr are needed")]


@pytest.fixture
def sink() -> Iterator[EventSink]:
    server = EventSink().start()
    yield server
    server.stop()


@pytest.fixture
def emulator_with_upstream(sink: EventSink) -> Iterator[EmulatorServer]:
    server = EmulatorServer(DEV_ACCESS_KEY, timings=FAST, upstream_template=sink.template).start()
    yield server
    server.stop()


def connect(emulator: EmulatorServer, user: str = "ana", query: str = "&room=blue") -> NodeClient:
    return NodeClient(f"{emulator.base_url}/client/?hub=chat{query}", client_token(user), name=user).start()


def test_a_client_session_posts_connected_messages_and_disconnected_in_order(emulator_with_upstream, sink):
    client = connect(emulator_with_upstream)
    try:
        client.send("newMessage", "ana", {"text": "hi 👋", "n": [1, 2.5]})
        client.invoke("echo", 42, id="inv-1")
        assert client.events.wait_event("invoked")["result"] is None
    finally:
        client.stop()
    posts = sink.wait_for(4)
    assert [p.path for p in posts] == ["/api/upstream/chat/connections/connected",
                                       "/api/upstream/chat/messages/newMessage",
                                       "/api/upstream/chat/messages/echo",
                                       "/api/upstream/chat/connections/disconnected"]
    for post in posts:
        assert post.headers["X-ASRS-Connection-Id"] == client.connection_id
        assert post.headers["X-ASRS-Hub"] == "chat"
        assert post.headers["X-ASRS-User-Id"] == "ana"
        # the raw query, as the official emulator forwards it (the receiver removes id and access_token)
        forwarded = parse_qs(post.headers["X-ASRS-Client-Query"].removeprefix("?"))
        assert (forwarded["hub"], forwarded["room"], len(forwarded["id"])) == (["chat"], ["blue"], 1)
        assert "nameid: ana" in post.headers["X-ASRS-User-Claims"]
        # every claim of the token, as the official emulator forwards user.Claims
        assert any(c.startswith("exp: ") for c in post.headers["X-ASRS-User-Claims"].split(", "))
        assert post.headers["Content-Type"] == "application/json"
        assert is_signed(client.connection_id, post.headers["X-ASRS-Signature"], [DEV_ACCESS_KEY])
    assert json.loads(posts[0].body) == {"type": 10}
    send = json.loads(posts[1].body.rstrip(b"\x1e"))
    assert posts[1].body.endswith(b"\x1e")
    assert (send["type"], send["target"], send["arguments"]) == (1, "newMessage", ["ana", {"text": "hi 👋",
                                                                                          "n": [1, 2.5]}])
    assert "invocationId" not in send
    assert json.loads(posts[2].body.rstrip(b"\x1e"))["invocationId"]
    assert json.loads(posts[3].body) == {"type": 11}


def test_an_invoke_the_upstream_refuses_fails_on_the_client(emulator_with_upstream, sink):
    sink.status_for["echo"] = (401, b"")
    client = connect(emulator_with_upstream)
    try:
        client.invoke("echo", id="inv-2")
        failed = client.events.wait_event("invokeFailed")
    finally:
        client.stop()
    assert "status code 401" in failed["error"]


def test_an_upstream_answer_body_is_relayed_as_the_completion(emulator_with_upstream, sink):
    # The answer is relayed as it is: it names the JS client's first invocation id, "0".
    sink.status_for["echo"] = (200, b'{"type":3,"invocationId":"0","result":{"ok":true}}\x1e')
    client = connect(emulator_with_upstream)
    try:
        client.invoke("echo", id="inv-3")
        assert client.events.wait_event("invoked")["result"] == {"ok": True}
    finally:
        client.stop()


def test_the_url_template_percent_encodes_each_value():
    upstream = Upstream("https://app.example/api/upstream/{hub}/{category}/{event}?code=x", DEV_ACCESS_KEY)
    assert upstream.url("chat", "messages", "a/b c") == "https://app.example/api/upstream/chat/messages/a%2Fb%20c?code=x"


def test_the_client_query_is_forwarded_raw_as_the_official_emulator_does():
    raw = "hub=chat&id=tok&access_token=secret&room=a%26b"
    assert client_query(raw) == "?" + raw
    assert client_query("") == ""


def test_with_a_managed_identity_each_call_carries_that_identitys_token(sink, identity_provider):
    import jwt

    identity = "5160a15e-0000-4000-8000-0000000000aa"
    server = EmulatorServer(DEV_ACCESS_KEY, timings=FAST, upstream_template=sink.template,
                            upstream_identity=(f"{identity_provider.base_url}/dev/token", identity)).start()
    try:
        client = connect(server)
        client.stop()
        posts = sink.wait_for(2)
    finally:
        server.stop()
    for post in posts:
        scheme, _, token = post.headers["Authorization"].partition(" ")
        claims = jwt.decode(token, options={"verify_signature": False})
        assert scheme == "Bearer"
        assert (claims["oid"], claims["aud"], claims.get("idtyp")) == (identity, identity_provider.audience, "app")


def test_a_messagepack_client_is_served_in_messagepack_and_posted_upstream_as_x_msgpack(emulator_with_upstream, sink):
    import urllib.request

    from functions.upstream.messagepack import read_invocation

    client = NodeClient(f"{emulator_with_upstream.base_url}/client/?hub=chat", client_token("ana"), name="ana",
                        protocol="messagepack").start()
    try:
        client.send("newMessage", "ana", {"text": "hi 👋", "n": [1, 2.5]})
        client.invoke("echo", 42, id="inv-mp")
        assert client.events.wait_event("invoked")["result"] is None
        # a REST broadcast reaches the MessagePack client re-encoded
        request = urllib.request.Request(f"{emulator_with_upstream.base_url}/api/v1/hubs/chat", method="POST",
                                         data=json.dumps({"target": "news", "arguments": ["m", 1]}).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {server_token('/api/v1/hubs/chat')}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        assert client.events.wait_messages(1)[0]["arguments"] == ["m", 1]
    finally:
        client.stop()
    posts = sink.wait_for(4)
    assert [p.headers["Content-Type"] for p in posts] == ["application/json", "application/x-msgpack",
                                                          "application/x-msgpack", "application/json"]
    send = read_invocation(posts[1].body)
    expected = ("newMessage", ["ana", {"text": "hi 👋", "n": [1, 2.5]}], None)
    assert (send["target"], send["arguments"], send["invocationId"]) == expected
    assert read_invocation(posts[2].body)["invocationId"]
