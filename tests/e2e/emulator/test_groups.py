"""Group membership (connections and users, with TTL) and the existence checks answer as the state is."""

from __future__ import annotations

import time

from devstack.emulator import EmulatorServer

from .conftest import Connect, Rest
from .test_delivery import received

HUB = "/api/v1/hubs/chat"


def test_group_existence_follows_connection_membership(connect_core: Connect, rest: Rest) -> None:
    client = connect_core("ann")
    member = f"{HUB}/groups/room/connections/{client.connection_id}"

    assert rest("GET", f"{HUB}/groups/room").status_code == 404
    assert rest("PUT", member).status_code == 200
    assert rest("GET", f"{HUB}/groups/room").status_code == 200
    assert rest("HEAD", f"{HUB}/groups/room").status_code == 200
    assert rest("DELETE", member).status_code == 200
    assert rest("GET", f"{HUB}/groups/room").status_code == 404


def test_unknown_connections_are_404_with_the_service_error_code(rest: Rest) -> None:
    added = rest("PUT", f"{HUB}/groups/room/connections/ghost")
    closed = rest("DELETE", f"{HUB}/connections/ghost", query="reason=x")
    checked = rest("HEAD", f"{HUB}/connections/ghost")

    assert (added.status_code, added.headers["x-ms-error-code"]) == (404, "Error.Connection.NotExisted")
    assert (closed.status_code, closed.headers["x-ms-error-code"]) == (404, "Warning.Connection.NotExisted")
    assert (checked.status_code, checked.headers["x-ms-error-code"]) == (404, "Warning.Connection.NotExisted")
    assert rest("DELETE", f"{HUB}/groups/room/connections/ghost").status_code == 404


def test_user_existence_follows_the_users_connections(connect_core: Connect, rest: Rest) -> None:
    assert rest("GET", f"{HUB}/users/ann").status_code == 404
    client = connect_core("ann")
    assert rest("GET", f"{HUB}/users/ann").status_code == 200
    assert rest("GET", "/api/v1/hubs/other/users/ann").status_code == 404

    client.stop()

    deadline = time.monotonic() + 10
    while rest("GET", f"{HUB}/users/ann").status_code != 404 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rest("GET", f"{HUB}/users/ann").status_code == 404


def test_a_users_membership_covers_connections_that_come_later(connect_core: Connect, rest: Rest) -> None:
    assert rest("PUT", f"{HUB}/groups/room/users/ann").status_code == 202
    assert rest("GET", f"{HUB}/groups/room/users/ann").status_code == 200
    assert rest("GET", f"{HUB}/groups/room").status_code == 404  # no connection yet

    later, other = connect_core("ann", name="later"), connect_core("bob", name="other")
    assert rest("GET", f"{HUB}/groups/room").status_code == 200
    assert rest.send(f"{HUB}/groups/room", "say", 1).status_code == 202

    assert received([later, other], rest) == {"later": [("say", [1])], "other": []}


def test_a_user_membership_with_ttl_expires(connect_core: Connect, rest: Rest) -> None:
    client = connect_core("ann", name="ann")
    assert rest("PUT", f"{HUB}/groups/room/users/ann", query="ttl=1").status_code == 202
    assert rest("GET", f"{HUB}/groups/room/users/ann").status_code == 200
    assert rest.send(f"{HUB}/groups/room", "say", "before").status_code == 202

    time.sleep(1.2)

    missing = rest("GET", f"{HUB}/groups/room/users/ann")
    assert (missing.status_code, missing.headers["x-ms-error-code"]) == (404, "Info.User.NotInGroup")
    assert rest("GET", f"{HUB}/groups/room").status_code == 404
    assert rest.send(f"{HUB}/groups/room", "say", "after").status_code == 202
    assert received([client], rest) == {"ann": [("say", ["before"])]}


def test_ttl_zero_adds_only_the_current_connections(connect_core: Connect, rest: Rest) -> None:
    now = connect_core("ann", name="now")
    assert rest("PUT", f"{HUB}/groups/room/users/ann", query="ttl=0").status_code == 202
    later = connect_core("ann", name="later")

    assert rest("GET", f"{HUB}/groups/room/users/ann").status_code == 404
    assert rest.send(f"{HUB}/groups/room", "say", 0).status_code == 202
    assert received([now, later], rest) == {"now": [("say", [0])], "later": []}


def test_removing_a_user_from_a_group_stops_delivery(connect_core: Connect, rest: Rest) -> None:
    ann, bob = connect_core("ann", name="ann"), connect_core("bob", name="bob")
    for user in ("ann", "bob"):
        assert rest("PUT", f"{HUB}/groups/room/users/{user}").status_code == 202

    assert rest("DELETE", f"{HUB}/groups/room/users/ann").status_code == 202
    assert rest.send(f"{HUB}/groups/room", "say", 1).status_code == 202

    assert received([ann, bob], rest) == {"ann": [], "bob": [("say", [1])]}
    assert rest("GET", f"{HUB}/groups/room/users/ann").status_code == 404


def test_removing_a_user_from_all_groups(connect_core: Connect, rest: Rest, emulator: EmulatorServer) -> None:
    ann = connect_core("ann", name="ann")
    assert rest("PUT", f"{HUB}/groups/g1/users/ann", query="ttl=600").status_code == 202
    assert rest("PUT", f"{HUB}/groups/g2/connections/{ann.connection_id}").status_code == 200
    assert emulator.state()["hubs"]["chat"]["connections"][ann.connection_id]["groups"] == ["g1", "g2"]

    assert rest("DELETE", f"{HUB}/users/ann/groups").status_code == 200

    assert emulator.state()["hubs"]["chat"]["connections"][ann.connection_id]["groups"] == []
    for group in ("g1", "g2"):
        assert rest("GET", f"{HUB}/groups/{group}").status_code == 404
        assert rest.send(f"{HUB}/groups/{group}", "say", group).status_code == 202
    assert received([ann], rest) == {"ann": []}


def test_a_closed_connection_leaves_its_groups(connect_core: Connect, rest: Rest) -> None:
    client = connect_core("ann")
    assert rest("PUT", f"{HUB}/groups/room/connections/{client.connection_id}").status_code == 200

    assert rest("DELETE", f"{HUB}/connections/{client.connection_id}").status_code == 202

    assert rest("GET", f"{HUB}/groups/room").status_code == 404
    assert client.events.wait_event("closed")["error"] is None
