"""The 2024-12-01 operations on the emulator: closing many, paging, ``:execute`` with a filter, ``:invoke``."""

from __future__ import annotations

import time
from urllib.parse import quote, urlsplit

import pytest

from clients.node_client import NodeClient, node_available
from devstack.emulator import DEV_ACCESS_KEY, EmulatorServer, Timings

from .conftest import FAST, Connect, Rest, client_token, settle
from .test_delivery import received

HUB = "/api/hubs/chat"
V1 = "/api/v1/hubs/chat"
VERSION = "api-version=2024-12-01"


def connection_ids(rest: Rest) -> set[str]:
    state = rest.session.get(rest.base_url + "/_emulator/state", timeout=10).json()
    return set(state["hubs"].get("chat", {}).get("connections", {}))


def wait_gone(rest: Rest, gone: set[str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while connection_ids(rest) & gone and time.monotonic() < deadline:
        time.sleep(0.05)


def test_closing_a_users_connections_closes_exactly_that_users(connect: Connect, rest: Rest) -> None:
    ann1, ann2, bob = connect("ann", name="ann1"), connect("ann", name="ann2"), connect("bob", name="bob")
    response = rest("POST", f"{HUB}/users/ann/:closeConnections", query=f"reason=kicked&{VERSION}")
    assert response.status_code == 204
    for client in (ann1, ann2):
        closed = client.events.wait_event("closed", timeout=10)
        if closed.get("error") is not None:
            assert "kicked" in closed["error"]
    wait_gone(rest, {ann1.connection_id, ann2.connection_id})
    assert connection_ids(rest) == {bob.connection_id}
    settle()
    assert [e for e in bob.events.all() if e["event"] == "closed"] == []


def test_closing_a_groups_or_hubs_connections_spares_the_excluded(connect_core: Connect, rest: Rest) -> None:
    a, b, c = connect_core("a"), connect_core("b"), connect_core("c")
    for client in (a, b):
        assert rest("PUT", f"{V1}/groups/room/connections/{client.connection_id}").status_code == 200
    assert rest("POST", f"{HUB}/groups/room/:closeConnections",
                query=f"excluded={b.connection_id}&{VERSION}").status_code == 204
    wait_gone(rest, {a.connection_id})
    assert connection_ids(rest) == {b.connection_id, c.connection_id}
    assert rest("POST", f"{HUB}/:closeConnections", query=f"excluded={c.connection_id}&{VERSION}").status_code == 204
    wait_gone(rest, {b.connection_id})
    assert connection_ids(rest) == {c.connection_id}


def test_removing_a_connection_from_all_groups(connect_core: Connect, rest: Rest) -> None:
    client = connect_core("ann")
    for group in ("g1", "g2"):
        rest("PUT", f"{V1}/groups/{group}/connections/{client.connection_id}")
    assert rest("DELETE", f"{HUB}/connections/{client.connection_id}/groups", query=VERSION).status_code == 200
    assert rest("GET", f"{V1}/groups/g1").status_code == 404
    assert rest("GET", f"{V1}/groups/g2").status_code == 404


def test_listing_a_group_pages_with_continuation_tokens_and_top(connect_core: Connect, rest: Rest) -> None:
    clients = [connect_core(f"user{i % 3}", name=f"c{i}") for i in range(5)]
    for client in clients:
        rest("PUT", f"{V1}/groups/room/connections/{client.connection_id}")
    seen, pages, query = [], 0, f"maxpagesize=2&{VERSION}"
    while query is not None and pages < 10:
        page = rest("GET", f"{HUB}/groups/room/connections", query=query)
        assert page.status_code == 200
        body = page.json()
        assert len(body["value"]) <= 2
        seen += body["value"]
        pages += 1
        link = body.get("nextLink")
        query = urlsplit(link).query if link else None
        if link:
            assert link.startswith(rest.base_url + "/api/hubs/chat/groups/room/connections?")
    assert pages == 3
    assert sorted(m["connectionId"] for m in seen) == sorted(c.connection_id for c in clients)
    assert {m["userId"] for m in seen} == {"user0", "user1", "user2"}
    limited = rest("GET", f"{HUB}/groups/room/connections", query=f"maxpagesize=2&top=3&{VERSION}").json()
    second = rest("GET", f"{HUB}/groups/room/connections", query=urlsplit(limited["nextLink"]).query).json()
    assert len(limited["value"]) + len(second["value"]) == 3
    assert "nextLink" not in second
    assert rest("GET", f"{HUB}/groups/room/connections", query=f"maxpagesize=201&{VERSION}").status_code == 400


def test_execute_with_a_filter_reaches_exactly_the_matching_connections(connect: Connect, rest: Rest) -> None:
    ann, bob, cat = connect("ann", name="ann"), connect("bob", name="bob"), connect("cat", name="cat")
    rest("PUT", f"{V1}/groups/vip/connections/{cat.connection_id}")
    commands = [{"type": "SendMessage", "message": {"target": "news", "arguments": ["hi"]}},
                {"type": "JoinGroup", "group": "picked"}]
    flt = quote("userId eq 'ann' or 'vip' in groups")
    assert rest("POST", f"{HUB}/:execute", query=f"filter={flt}&{VERSION}", body=commands).status_code == 202
    got = received([ann, bob, cat], rest)
    assert got == {"ann": [("news", ["hi"])], "bob": [], "cat": [("news", ["hi"])]}
    state = rest.session.get(rest.base_url + "/_emulator/state", timeout=10).json()["hubs"]["chat"]
    assert set(state["groups"]["picked"]) == {ann.connection_id, cat.connection_id}
    bad = rest("POST", f"{HUB}/:execute", query=f"filter={quote('userId eq')}&{VERSION}", body=commands)
    assert bad.status_code == 400


@pytest.fixture
def quick_emulator():
    server = EmulatorServer(DEV_ACCESS_KEY, timings=Timings(keep_alive=FAST.keep_alive, invoke_timeout=1.5)).start()
    yield server
    server.stop()


@pytest.mark.stack
@pytest.mark.skipif(not node_available(), reason="node and node_modules/@microsoft/signalr are needed")
def test_invoke_returns_what_the_js_handler_returned_and_tells_failures_apart(quick_emulator) -> None:
    rest = Rest(quick_emulator.base_url)
    url = f"{quick_emulator.base_url}/client/?hub=chat"
    with NodeClient(url, client_token("ann"), name="ann", answers={"ask": {"answer": 42}}, hang=("slow",),
                    throw={"fail": "no can do"}) as client:
        path = f"{HUB}/connections/{client.connection_id}/:invoke"
        ok = rest("POST", path, query=VERSION, body={"target": "ask", "arguments": ["q", 1]})
        assert (ok.status_code, ok.json()) == (200, {"result": {"answer": 42}})
        assert client.events.wait_event("answered")["arguments"] == ["q", 1]
        failed = rest("POST", path, query=VERSION, body={"target": "fail", "arguments": []})
        assert failed.status_code == 400
        assert "no can do" in failed.json()["message"]
        started = time.monotonic()
        slow = rest("POST", path, query=VERSION, body={"target": "slow", "arguments": []})
        assert slow.status_code == 408
        assert 1.4 < time.monotonic() - started < 5
    gone = rest("POST", f"{HUB}/connections/nobody/:invoke", query=VERSION, body={"target": "ask"})
    assert (gone.status_code, gone.headers["x-ms-error-code"]) == (404, "Warning.Connection.NotExisted")
    rest.session.close()
