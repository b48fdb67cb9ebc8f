"""POST /api/v1/batch through its registered function, against the SignalR stand-in."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from devstack.idp import ALL_PERMISSIONS
from functions.catalog.operations import Permission
from functions.core.batch import MAX_BATCH_ITEMS
from support.recording_upstream import Answer, Rule

PAYLOAD = {"target": "newMessage", "arguments": ["hi"]}


def send_to(user: str, hub: str = "chat", **extra) -> dict:
    return {"operation": "sendToUser", "hub": hub, "user": user, "payload": PAYLOAD, **extra}


def paths_to(upstream, prefix: str) -> int:
    return len(upstream.requests_to(prefix))


@pytest.fixture
def post_batch(registered_functions, secured_env, identity_provider):
    function = registered_functions["batch"].get_user_function()

    def run(body, *, roles=ALL_PERMISSIONS, raw: bytes | None = None, headers=None, **claims):
        data = raw if raw is not None else json.dumps(body).encode()
        all_headers = {"Authorization": f"Bearer {identity_provider.mint(roles=roles, **claims)}",
                       "Content-Type": "application/json", **(headers or {})}
        request = func.HttpRequest("POST", "http://127.0.0.1:7071/api/v1/batch", headers=all_headers,
                                   params={}, route_params={}, body=data)
        response = function(request)
        return response.status_code, json.loads(response.get_body() or b"null")

    return run


def test_each_item_gets_its_result_in_order_and_each_reaches_signalr_once(post_batch, upstream):
    status, body = post_batch([send_to(f"u{i}", id=f"corr-{i}") for i in range(40)])
    assert status == 207
    assert [(r["index"], r["status"], r["id"]) for r in body["results"]] == [(i, 202, f"corr-{i}") for i in range(40)]
    assert (body["succeeded"], body["failed"]) == (40, 0)
    assert sorted(r.path for r in upstream.requests) == sorted(f"/api/v1/hubs/chat/users/u{i}" for i in range(40))
    assert all(r.json() == {"Target": "newMessage", "Arguments": ["hi"]} for r in upstream.requests)


def test_mixed_outcomes_are_reported_per_item_and_refused_items_are_never_sent(post_batch, upstream, secured_env):
    secured_env.setenv("SIGNALR_ALLOWED_HUBS", "chat,gone,slow,down")
    from functions.core.facade import reset_facade

    reset_facade()
    upstream.add_rule(Rule("/api/v1/hubs/gone/", Answer(404)))
    upstream.add_rule(Rule("/api/v1/hubs/slow/", Answer(429, {"Retry-After": "0"}), times=1))
    upstream.add_rule(Rule("/api/v1/hubs/down/", Answer(503, {"Retry-After": "0"})))
    items = [
        send_to("ok"),                                                                     # 202
        {"operation": "connectionExists", "hub": "gone", "connectionId": "c1"},            # 404 (an answer)
        {"operation": "sendToUser", "hub": "chat", "user": "", "payload": PAYLOAD},        # 400, never sent
        {"operation": "addUserToGroup", "hub": "chat", "group": "g", "user": "u"},         # 403 for this caller
        send_to("later", hub="slow"),                                                      # 429, then 202
        send_to("never", hub="down"),                                                      # 503 after retries
        send_to("elsewhere", hub="other"),                                                 # 403: hub not allowed
    ]
    status, body = post_batch(items, roles=[Permission.SEND.value, Permission.READ.value])
    assert status == 207
    results = body["results"]
    assert [r["status"] for r in results] == [202, 404, 400, 403, 202, 503, 403]
    assert results[1]["problem"]["type"].endswith(":not-found")
    assert [e["field"] for e in results[2]["problem"]["errors"]] == ["user"]
    assert "SignalR.Groups.Manage" in results[3]["problem"]["detail"]
    assert results[5]["problem"]["retryAfter"] == 0
    assert paths_to(upstream, "/api/v1/hubs/down/") == 4  # the first try and the transport's 3 retries
    assert "problem" not in results[0]
    assert "problem" not in results[4]
    assert (body["succeeded"], body["failed"]) == (3, 4)  # the existence check's 404 is its answer
    paths = [r.path for r in upstream.requests]
    assert not [p for p in paths if "/groups/" in p or "/hubs/other/" in p or p.endswith("/users/")]
    assert paths.count("/api/v1/hubs/slow/users/later") == 2  # the 429 was retried, once
    assert paths.count("/api/v1/hubs/chat/users/ok") == 1


def test_a_batch_over_the_item_cap_is_413_before_anything_is_sent(post_batch, upstream):
    status, body = post_batch([send_to("u")] * (MAX_BATCH_ITEMS + 1))
    assert status == 413
    assert str(MAX_BATCH_ITEMS) in body["detail"]
    assert upstream.requests == []


def test_a_batch_over_one_megabyte_is_413_before_anything_is_sent(post_batch, upstream):
    big = {"target": "t", "arguments": ["x" * 2000]}
    status, _ = post_batch([{"operation": "broadcast", "hub": "chat", "payload": big}] * 600)
    assert status == 413
    assert upstream.requests == []


@pytest.mark.parametrize("body", [[], {"operation": "broadcast"}, {"commands": "x"}, {"commands": [], "x": 1},
                                  {"commands": [send_to("u")], "attempt": 2}, "text"])
def test_a_batch_that_is_not_a_list_of_commands_is_400_naming_the_field(post_batch, upstream, body):
    status, problem = post_batch(body)
    assert status == 400
    assert problem["errors"]
    assert upstream.requests == []


def test_no_token_is_401_before_the_body_is_read(registered_functions, secured_env, upstream):
    function = registered_functions["batch"].get_user_function()
    response = function(func.HttpRequest("POST", "http://127.0.0.1/api/v1/batch", body=b"{not json"))
    assert response.status_code == 401
    assert upstream.requests == []


def test_an_ordered_batch_runs_one_at_a_time_and_stops_at_a_failure_that_may_pass_later(post_batch, upstream):
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/u2", Answer(503, {"Retry-After": "0"})))
    items = [send_to("u0"), {"operation": "sendToUser", "hub": "chat"}, send_to("u2"), send_to("u3"), send_to("u4")]
    status, body = post_batch({"commands": items, "ordered": True})
    assert status == 207
    assert [r["status"] for r in body["results"]] == [202, 400, 503, 424, 424]
    assert body["results"][3]["problem"]["type"].endswith(":not-attempted")
    sent = [r.path.rsplit("/", 1)[1] for r in upstream.requests]
    assert sent[0] == "u0"
    assert set(sent[1:]) == {"u2"}


def test_an_ordered_batch_reaches_the_service_in_array_order(post_batch, upstream):
    status, body = post_batch({"commands": [send_to(f"u{i}") for i in range(12)], "ordered": True})
    assert status == 207
    assert body["succeeded"] == 12
    assert [r.path.rsplit("/", 1)[1] for r in upstream.requests] == [f"u{i}" for i in range(12)]


def test_operations_that_answer_with_data_are_refused_per_item_existence_checks_are_not(post_batch, upstream):
    upstream.answer(Answer(200))
    status, body = post_batch([{"operation": "listUsersInGroup", "hub": "chat", "group": "g"},
                               {"operation": "userExists", "hub": "chat", "user": "u"}])
    assert status == 207
    assert [r["status"] for r in body["results"]] == [400, 200]
    assert body["results"][0]["problem"]["type"].endswith(":operation-not-allowed")
    assert [r.path for r in upstream.requests] == ["/api/v1/hubs/chat/users/u"]


def test_a_calling_app_that_is_not_allowed_is_refused_whole_with_403(post_batch, upstream, secured_env):
    from functions.core.facade import reset_facade

    secured_env.setenv("ENTRA_ALLOWED_CLIENT_APPS", "11111111-aaaa-4bbb-8ccc-000000000001")
    reset_facade()
    status, problem = post_batch([send_to("u1")])
    assert status == 403
    assert problem["type"].endswith(":forbidden")
    assert upstream.requests == []


def test_multi_tenant_batch_items_act_in_the_callers_tenant_and_may_not_name_one(post_batch, upstream, secured_env,
                                                                              identity_provider):
    from functions.core.facade import reset_facade

    secured_env.setenv("ENTRA_TENANT_ID", "organizations")
    secured_env.setenv("ENTRA_ALLOWED_TENANTS", identity_provider.tenant_id)
    secured_env.setenv("ENTRA_METADATA_URL", identity_provider.metadata_url_for("organizations"))
    reset_facade()
    status, body = post_batch([send_to("u1"), send_to("u2", tenant=identity_provider.tenant_id)])
    assert [r["status"] for r in body["results"]] == [202, 400]
    assert body["results"][1]["problem"]["errors"][0]["field"] == "tenant"
    [request] = upstream.requests
    assert request.path == "/api/v1/hubs/t" + identity_provider.tenant_id.replace("-", "") + "_chat/users/u1"


def test_an_existence_checks_404_and_closing_a_gone_connection_succeeded(post_batch, upstream):
    """succeeded/failed (issue 26): an item's documented answer is not a failure, its 404 included."""
    upstream.add_rule(Rule("/api/v1/hubs/chat/groups/empty", Answer(404)))
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/nobody", Answer(404)))
    upstream.add_rule(Rule("/api/v1/hubs/chat/connections/gone", Answer(404)))
    items = [
        {"operation": "groupExists", "hub": "chat", "group": "empty"},                        # 404: "no"
        {"operation": "userExists", "hub": "chat", "user": "somebody"},                       # 200: "yes"
        {"operation": "closeConnection", "hub": "chat", "connectionId": "gone"},              # 404: already gone
        {"operation": "sendToConnection", "hub": "chat", "connectionId": "gone", "payload": PAYLOAD},  # 502: failed
        {"operation": "sendToUser", "hub": "chat", "user": "", "payload": PAYLOAD},           # 400: failed
    ]
    status, body = post_batch(items)
    assert status == 207
    assert [r["status"] for r in body["results"]] == [404, 200, 404, 502, 400]
    assert (body["succeeded"], body["failed"]) == (3, 2)
