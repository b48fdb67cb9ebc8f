"""Several SignalR endpoints behind the facade: routing, merging, outages (recording stand-ins)."""

from __future__ import annotations

import json
import time

import pytest

from devstack.constants import DEV_ACCESS_KEY, free_port
from functions.core.facade import get_facade
from support.recording_upstream import Answer, RecordingUpstream, Rule

BODY = {"target": "newMessage", "arguments": ["hi"]}


def router():
    return get_facade().client


def sent(servers, prefix="/api/v1/hubs/") -> dict[str, list]:
    return {name: [(r.method, r.path) for r in server.requests_to(prefix)] for name, server in servers.items()}


@pytest.mark.parametrize(("name", "method", "params", "path"), [
    ("broadcast", "POST", {"hub": "chat"}, "/api/v1/hubs/chat"),
    ("sendToUser", "POST", {"hub": "chat", "user": "u 1"}, "/api/v1/hubs/chat/users/u%201"),
    ("sendToGroup", "POST", {"hub": "chat", "group": "g"}, "/api/v1/hubs/chat/groups/g"),
    ("addUserToGroup", "PUT", {"hub": "chat", "group": "g", "user": "u"}, "/api/v1/hubs/chat/groups/g/users/u"),
    ("removeUserFromGroup", "DELETE", {"hub": "chat", "group": "g", "user": "u"},
     "/api/v1/hubs/chat/groups/g/users/u"),
    ("closeUserConnections", "POST", {"hub": "chat", "user": "u"}, "/api/hubs/chat/users/u/:closeConnections"),
])
def test_sends_and_membership_changes_reach_every_endpoint_with_the_same_request(
        call, three_endpoints, name, method, params, path):
    from functions.catalog.operations import OPERATIONS_BY_NAME

    spec = OPERATIONS_BY_NAME[name]
    body = BODY if spec.has_body else None
    for server in three_endpoints.values():
        server.add_rule(Rule("/api/", Answer(spec.success[0])))
    response = call(name, method, params, body=body)
    assert response.status_code in OPERATIONS_BY_NAME[name].success
    for server in three_endpoints.values():
        [request] = [r for r in server.requests if r.method != "HEAD"]
        assert (request.method, request.path) == (method, path)
        if body:
            assert request.json() == {"Target": "newMessage", "Arguments": ["hi"]}
        assert request.bearer  # each signed with its own endpoint's audience


def test_a_one_connection_operation_answers_from_the_endpoint_that_holds_it(call, three_endpoints):
    for name in ("default", "east"):
        three_endpoints[name].add_rule(Rule("/api/v1/hubs/chat/connections/", Answer(404)))
    params = {"hub": "chat", "connectionId": "c1"}
    assert call("sendToConnection", "POST", params, body=BODY).status_code == 202
    assert call("closeConnection", "DELETE", params).status_code == 202
    assert call("connectionExists", "GET", params).status_code == 200
    assert all(len(s.requests_to("/api/v1/hubs/chat/connections/c1")) == 3 for s in three_endpoints.values())
    three_endpoints["west"].add_rule(Rule("/api/v1/hubs/chat/connections/", Answer(404)))
    assert call("closeConnection", "DELETE", params).status_code == 404  # gone everywhere
    assert call("connectionExists", "GET", params).status_code == 404


def test_existence_checks_are_true_when_any_endpoint_says_so(call, three_endpoints):
    for name in ("default", "west"):
        three_endpoints[name].add_rule(Rule("/api/v1/hubs/chat/groups/", Answer(404)))
    assert call("groupExists", "GET", {"hub": "chat", "group": "g"}).status_code == 200
    three_endpoints["east"].add_rule(Rule("/api/v1/hubs/chat/groups/", Answer(404)))
    assert call("groupExists", "GET", {"hub": "chat", "group": "g"}).status_code == 404


def sealed(upstream_token: str) -> str:
    """A page token the facade sealed for chat/g (what a tampered merged token cannot be without the key)."""
    from functions.catalog.operations import OPERATIONS_BY_NAME
    from functions.core.command import Command

    command = Command(OPERATIONS_BY_NAME["listConnectionsInGroup"], "chat", {"group": "g"})
    return get_facade().page_tokens.seal(command, upstream_token)


def _page(values, token=None):
    body = {"value": [{"connectionId": c, "userId": u} for c, u in values]}
    if token:
        body["nextLink"] = f"https://x.service.signalr.net/api/hubs/chat/groups/g/connections?continuationToken={token}"
    return Answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


def _pages(server: RecordingUpstream, *answers: Answer) -> None:
    for answer in answers:  # rules, not the script: the background probes must not take them
        server.add_rule(Rule("/api/hubs/chat/groups/g/connections", answer, times=1))


def test_list_pages_merge_and_continue_only_where_more_remains(call, three_endpoints):
    _pages(three_endpoints["default"], _page([("c1", "u1")], token="more-default"), _page([("c4", "u1")]))
    _pages(three_endpoints["west"], _page([("c2", "u2")]))
    _pages(three_endpoints["east"], _page([("c3", "u3")]))
    params = {"hub": "chat", "group": "g"}
    first = call("listConnectionsInGroup", "GET", params)
    assert first.status_code == 200
    body = json.loads(first.get_body())
    assert sorted(v["connectionId"] for v in body["value"]) == ["c1", "c2", "c3"]
    assert "signalr.net" not in body["nextLink"]
    assert "more-default" not in body["nextLink"]
    query = body["nextLink"].split("?", 1)[1]
    from urllib.parse import parse_qsl

    token = dict(parse_qsl(query))["continuationToken"]
    second = json.loads(call("listConnectionsInGroup", "GET", params, f"continuationToken={token}").get_body())
    assert second == {"value": [{"connectionId": "c4", "userId": "u1"}]}
    [follow] = three_endpoints["default"].requests_to("/api/hubs/chat/groups/g/connections")[1:]
    assert ("continuationToken", "more-default") in follow.query
    assert len(three_endpoints["west"].requests_to("/api/hubs/")) == 1  # west had no more


def test_who_is_in_a_group_counts_users_over_every_endpoint(call, three_endpoints):
    _pages(three_endpoints["default"], _page([("c1", "u1")], token="t"), _page([("c2", "u2")]))
    _pages(three_endpoints["west"], _page([("c3", "u1")]))
    _pages(three_endpoints["east"], _page([]))
    body = json.loads(call("listUsersInGroup", "GET", {"hub": "chat", "group": "g"}).get_body())
    assert body["users"] == [{"userId": "u1", "connections": 2}, {"userId": "u2", "connections": 1}]
    assert body["connections"] == 3


def test_a_fan_out_takes_about_as_long_as_the_slowest_endpoint(call, three_endpoints):
    for delay, server in zip((0.3, 0.2, 0.3), three_endpoints.values(), strict=True):
        server.add_rule(Rule("/api/v1/hubs/chat", Answer(202, delay=delay)))
    call("broadcast", "POST", {"hub": "chat"}, body=BODY)  # warm the pooled connections
    started = time.monotonic()
    assert call("broadcast", "POST", {"hub": "chat"}, body=BODY).status_code == 202
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 0.6  # one after another would take 0.8 s


def _health(call, roles=("SignalR.Read",), token=None):
    """/api/health as a caller holding SignalR.Read sees it (names and reasons); roles=() or token="": not."""
    response = call("health", "GET", {}, roles=list(roles), token=token)
    return response.status_code, json.loads(response.get_body())


def _negotiated_ports(negotiate_times: int, call_negotiate) -> set[int]:
    from urllib.parse import urlsplit

    return {urlsplit(call_negotiate()["url"]).port for _ in range(negotiate_times)}


@pytest.fixture
def negotiate(registered_functions, identity_provider):
    import azure.functions as func

    function = registered_functions["negotiate"].get_user_function()

    def run():
        token = identity_provider.mint(roles=["SignalR.Connect"])
        response = function(func.HttpRequest(
            "POST", "http://127.0.0.1:7071/api/v1/hubs/chat/negotiate", headers={"Authorization": f"Bearer {token}"},
            params={}, route_params={"hub": "chat"}, body=b""))
        assert response.status_code == 200, response.get_body()
        return json.loads(response.get_body())

    return run


def test_negotiate_spreads_over_healthy_primaries_and_falls_back_to_secondaries(
        call, three_endpoints, negotiate, registered_functions):
    ports = {name: server.port for name, server in three_endpoints.items()}
    assert _negotiated_ports(6, negotiate) == {ports["default"], ports["west"]}
    for name in ("default", "west"):
        three_endpoints[name].default = Answer(503)
    router().prober.probe_all()
    assert _negotiated_ports(4, negotiate) == {ports["east"]}
    three_endpoints["east"].default = Answer(503)
    router().prober.probe_all()
    status, body = _health(call)
    assert status == 503
    assert body["checks"]["upstream"]["status"] == "error"


@pytest.mark.parametrize("fault", ["answers 503", "times out"])
def test_an_endpoint_in_trouble_is_skipped_shown_down_and_used_again_when_back(
        call, three_endpoints, negotiate, registered_functions, fault):
    west = three_endpoints["west"]
    if fault == "times out":
        for endpoint in router().endpoints:  # short waits keep the test quick
            object.__setattr__(endpoint.client, "timeouts", type(endpoint.client.timeouts)(connect=0.5, read=0.3))
        west.default = Answer(202, delay=2.5)
    else:
        west.default = Answer(503)
    # The first send finds the fault itself: west is marked down, and the send counts as delivered.
    assert call("broadcast", "POST", {"hub": "chat"}, body=BODY).status_code == 202
    status, body = _health(call)
    states = {e["name"]: e["status"] for e in body["checks"]["upstream"]["endpoints"]}
    assert (status, body["status"], states) == (200, "healthy", {"default": "up", "west": "down", "east": "up"})
    assert body["checks"]["upstream"]["status"] == "degraded"
    west.reset()
    west.default = Answer(503) if fault == "answers 503" else Answer(202, delay=2.5)
    assert call("broadcast", "POST", {"hub": "chat"}, body=BODY).status_code == 202
    assert west.requests_to("/api/v1/") == []  # skipped while down
    assert three_endpoints["west"].port not in _negotiated_ports(6, negotiate)
    west.reset()
    router().prober.probe_all()
    assert call("broadcast", "POST", {"hub": "chat"}, body=BODY).status_code == 202
    assert len(west.requests_to("/api/v1/hubs/chat")) == 1
    assert west.port in _negotiated_ports(6, negotiate)


def test_an_endpoint_refusing_connections_is_skipped_and_used_again_once_it_listens(
        call, secured_env, upstream, negotiate, registered_functions):
    from functions.core.facade import reset_facade

    port = free_port()
    secured_env.setenv("Azure__SignalR__Endpoints__late__primary",
                       f"Endpoint=http://127.0.0.1;Port={port};AccessKey={DEV_ACCESS_KEY};Version=1.0;")
    reset_facade()
    assert call("sendToGroup", "POST", {"hub": "chat", "group": "g"}, body=BODY).status_code == 202
    assert len(upstream.requests_to("/api/v1/hubs/chat/groups/g")) == 1
    assert _negotiated_ports(4, negotiate) == {upstream.port}
    late = RecordingUpstream(port=port).start()
    try:
        router().prober.probe_all()
        _, body = _health(call)
        assert body["checks"]["upstream"]["status"] == "ok"
        assert call("sendToGroup", "POST", {"hub": "chat", "group": "g"}, body=BODY).status_code == 202
        assert len(late.requests_to("/api/v1/hubs/chat/groups/g")) == 1
    finally:
        late.stop()


def test_a_failure_on_a_healthy_endpoint_fails_the_send_and_names_where_it_is_owed(three_endpoints):
    from functions.core.errors import UpstreamRejected
    from functions.core.queued import command_from_message
    from functions.signalr.router import pending_endpoints

    three_endpoints["east"].add_rule(Rule("/api/v1/hubs/chat", Answer(400)))
    command = command_from_message({"operation": "broadcast", "hub": "chat", "payload": BODY})
    with pytest.raises(UpstreamRejected) as raised:
        get_facade().forward(command)
    assert pending_endpoints(raised.value) == ("east",)
    assert {e["name"]: e["status"] for e in router().report()["endpoints"]}["east"] == "up"


def test_with_no_endpoint_healthy_a_send_is_503_with_retry_after(call, three_endpoints):
    for server in three_endpoints.values():
        server.default = Answer(503)
    router().prober.probe_all()
    response = call("broadcast", "POST", {"hub": "chat"}, body=BODY)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert all(s.requests_to("/api/v1/hubs/") == [] for s in three_endpoints.values())


@pytest.mark.parametrize("token", ["plain-upstream-token", 'endpoints:{"nowhere":"t"}', "endpoints:not json",
                                   'endpoints:{"west":7}'])
def test_a_continuation_token_not_from_a_merged_page_is_refused_without_a_call(call, three_endpoints, token):
    response = call("listConnectionsInGroup", "GET", {"hub": "chat", "group": "g"},
                    f"continuationToken={sealed(token)}")
    assert response.status_code == 400
    assert all(s.requests_to("/api/hubs/") == [] for s in three_endpoints.values())


@pytest.mark.parametrize("token", ["endpoints:" + "[" * 1000 + "]" * 1000,
                                   "endpoints:" + '{"a":' * 1000 + "1" + "}" * 1000,
                                   'endpoints:{"west":"t","west":"u"}', 'endpoints:{"west":{"deep":"t"}}'],
                         ids=["arrays-1000-deep", "objects-1000-deep", "duplicate-key", "nested-value"])
def test_a_merged_token_is_read_by_the_one_bounded_json_reader(call, three_endpoints, token):
    """Issue 22, item 2: a forged token nested 1,000 deep was a RecursionError (500)."""
    response = call("listConnectionsInGroup", "GET", {"hub": "chat", "group": "g"},
                    f"continuationToken={sealed(token)}")
    assert response.status_code == 400
    assert all(s.requests_to("/api/hubs/") == [] for s in three_endpoints.values())


def test_anonymous_health_shows_statuses_only_and_details_need_signalr_read(call, three_endpoints, caplog):
    """Issue 22, item 7: endpoint names, types and outage reasons went to anyone."""
    three_endpoints["west"].default = Answer(503)
    router().prober.probe_all()
    with caplog.at_level("WARNING", logger="functions.http.health"):
        for token, roles in (("", ()), (None, ("SignalR.Send",)), ("not-a-token", ())):
            status, body = _health(call, roles=roles, token=token)
            assert (status, body) == (200, {"status": "healthy", "checks": {"settings": {"status": "ok"},
                                                                            "upstream": {"status": "degraded"}}})
    status, body = _health(call)
    states = {e["name"]: (e["type"], e["status"]) for e in body["checks"]["upstream"]["endpoints"]}
    assert states == {"default": ("primary", "up"), "west": ("primary", "down"), "east": ("secondary", "up")}
    # The operator still learns it, once per change of picture.
    [line] = [r.getMessage() for r in caplog.records if r.name == "functions.http.health"]
    assert '"west"' in line
    assert "down" in line


def test_top_bounds_the_merged_list_over_all_pages_not_each_endpoints_share(call, three_endpoints):
    """Issue 22, item 7: with three endpoints, top=3 answered up to nine connections."""
    from urllib.parse import parse_qsl

    params = {"hub": "chat", "group": "g"}
    for name, server in three_endpoints.items():
        _pages(server, _page([(f"{name}-1", "u"), (f"{name}-2", "u")], token=f"more-{name}"))
    first = json.loads(call("listConnectionsInGroup", "GET", params, "top=3").get_body())
    assert len(first["value"]) == 3
    assert "nextLink" not in first  # top reached: nothing more to follow

    for server in three_endpoints.values():
        server.reset()
    _pages(three_endpoints["default"], _page([("c1", "u")], token="more"), _page([("c4", "u"), ("c5", "u")]))
    _pages(three_endpoints["west"], _page([("c2", "u")]))
    _pages(three_endpoints["east"], _page([("c3", "u")]))
    first = json.loads(call("listConnectionsInGroup", "GET", params, "top=4").get_body())
    assert len(first["value"]) == 3
    token = dict(parse_qsl(first["nextLink"].split("?", 1)[1]))["continuationToken"]
    second = json.loads(call("listConnectionsInGroup", "GET", params, f"top=4&continuationToken={token}").get_body())
    assert second == {"value": [{"connectionId": "c4", "userId": "u"}]}  # 3 + 1 = top


@pytest.mark.parametrize("left", [0, -1, "2", 1.5, True])
def test_a_merged_token_with_a_bad_count_left_is_refused(call, three_endpoints, left):
    token = "endpoints:" + json.dumps({"#left": left, "west": "t"})
    response = call("listConnectionsInGroup", "GET", {"hub": "chat", "group": "g"},
                    f"continuationToken={sealed(token)}")
    assert response.status_code == 400
    assert all(s.requests_to("/api/hubs/") == [] for s in three_endpoints.values())
