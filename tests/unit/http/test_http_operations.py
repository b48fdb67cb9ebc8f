"""Each operation end to end through its registered function, against the SignalR stand-in."""

from __future__ import annotations

import json
import logging

import jwt
import pytest

from devstack.constants import DEV_ACCESS_KEY as KEY
from functions.catalog.operations import OPERATIONS
from support.http_calls import ALL_PERMISSIONS, problem
from support.recording_upstream import Answer

BODY = {"target": "newMessage", "arguments": ["hi", 1]}
GROUP = "a/../b?x=1#y"

# name, method, route params, query string, expected upstream raw path, expected upstream query
CASES = [
    ("broadcast", "POST", {"hub": "Chat"}, "excluded=c1&excluded=c%262", "/api/v1/hubs/chat",
     [("excluded", "c1"), ("excluded", "c&2")]),
    ("sendToUser", "POST", {"hub": "chat", "user": "user@x"}, "", "/api/v1/hubs/chat/users/user%40x", []),
    ("sendToConnection", "POST", {"hub": "chat", "connectionId": "c1"}, "", "/api/v1/hubs/chat/connections/c1", []),
    ("connectionExists", "GET", {"hub": "chat", "connectionId": "c1"}, "", "/api/v1/hubs/chat/connections/c1", []),
    ("closeConnection", "DELETE", {"hub": "chat", "connectionId": "c1"}, "reason=going%20away",
     "/api/v1/hubs/chat/connections/c1", [("reason", "going away")]),
    ("sendToGroup", "POST", {"hub": "chat", "group": GROUP}, "excluded=c1",
     "/api/v1/hubs/chat/groups/a%2F..%2Fb%3Fx%3D1%23y", [("excluded", "c1")]),
    ("groupExists", "GET", {"hub": "chat", "group": "g 1"}, "", "/api/v1/hubs/chat/groups/g%201", []),
    ("userExists", "GET", {"hub": "chat", "user": "u1"}, "", "/api/v1/hubs/chat/users/u1", []),
    ("addConnectionToGroup", "PUT", {"hub": "chat", "group": "g", "connectionId": "c1"}, "",
     "/api/v1/hubs/chat/groups/g/connections/c1", []),
    ("removeConnectionFromGroup", "DELETE", {"hub": "chat", "group": "g", "connectionId": "c1"}, "",
     "/api/v1/hubs/chat/groups/g/connections/c1", []),
    ("userInGroup", "GET", {"hub": "chat", "group": "g", "user": "u1"}, "",
     "/api/v1/hubs/chat/groups/g/users/u1", []),
    ("addUserToGroup", "PUT", {"hub": "chat", "group": "g", "user": "u1"}, "ttl=3600",
     "/api/v1/hubs/chat/groups/g/users/u1", [("ttl", "3600")]),
    ("removeUserFromGroup", "DELETE", {"hub": "chat", "group": "g", "user": "u1"}, "",
     "/api/v1/hubs/chat/groups/g/users/u1", []),
    ("removeUserFromAllGroups", "DELETE", {"hub": "chat", "user": "u1"}, "", "/api/v1/hubs/chat/users/u1/groups", []),
]
SUCCESS = {op.name: op.success[0] for op in OPERATIONS}


@pytest.mark.parametrize(("name", "method", "params", "query", "path", "upstream_query"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_operation_forwards_exactly_one_correct_request(call, upstream, name, method, params, query, path,
                                                             upstream_query):
    spec = next(op for op in OPERATIONS if op.name == name)
    upstream.answer(Answer(SUCCESS[name]))
    response = call(name, method, params, query, body=BODY if spec.has_body else None)
    assert response.status_code == SUCCESS[name]
    (request,) = upstream.requests
    assert (request.method, request.raw_path.split("?")[0], request.query) == (method, path, upstream_query)
    if spec.has_body:
        assert request.json() == {"Target": "newMessage", "Arguments": ["hi", 1]}
        assert request.headers["content-type"] == "application/json"
    else:
        assert request.body == b""
    assert jwt.get_unverified_header(request.bearer)["alg"] == "HS256"
    claims = jwt.decode(request.bearer, KEY, algorithms=["HS256"], audience=f"http://127.0.0.1{path}",
                        options={"require": ["exp", "aud", "iat"]})
    assert claims["exp"] > claims["iat"]


@pytest.mark.parametrize("name", ["connectionExists", "groupExists", "userExists", "userInGroup"])
def test_existence_checks_answer_head_and_404_as_upstream(call, upstream, name):
    _, _, params, *_ = next(c for c in CASES if c[0] == name)
    upstream.answer(Answer(404), Answer(200))
    missing = call(name, "GET", params)
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    assert json.loads(missing.get_body())["type"].endswith(":not-found")
    head = call(name, "HEAD", params)
    assert head.status_code == 200
    assert head.get_body() == b""
    assert [r.method for r in upstream.requests] == ["GET", "HEAD"]


def test_remove_user_from_all_groups_passes_200_or_202_through(call, upstream):
    upstream.answer(Answer(200), Answer(202))
    assert call("removeUserFromAllGroups", "DELETE", {"hub": "h", "user": "u"}).status_code == 200
    assert call("removeUserFromAllGroups", "DELETE", {"hub": "h", "user": "u"}).status_code == 202


def test_bad_input_is_a_400_naming_each_field_with_no_upstream_call(call, upstream):
    response = call("sendToGroup", "POST", {"hub": "9hub", "group": " "}, "excluded=", body={"target": ""})
    assert response.status_code == 400
    fields = sorted(e["field"] for e in problem(response)["errors"])
    assert fields == ["body", "excluded", "group", "hub"]
    assert upstream.requests == []


def test_repeated_single_query_parameter_is_rejected(call, upstream):
    response = call("addUserToGroup", "PUT", {"hub": "h", "group": "g", "user": "u"}, "ttl=1&ttl=2")
    assert response.status_code == 400
    assert upstream.requests == []


def test_non_json_body_is_415(call, upstream):
    response = call("broadcast", "POST", {"hub": "h"}, raw_body=b"target=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert upstream.requests == []


def test_json_with_charset_and_plus_json_are_accepted(call, upstream):
    for content_type in ("application/json; charset=utf-8", "application/vnd.x+json"):
        response = call("broadcast", "POST", {"hub": "h"}, raw_body=json.dumps(BODY).encode(),
                        headers={"Content-Type": content_type})
        assert response.status_code == 202


def test_body_over_one_megabyte_is_413(call, upstream):
    big = json.dumps({"target": "t", "arguments": ["x" * (1024 * 1024)]}).encode()
    response = call("broadcast", "POST", {"hub": "h"}, raw_body=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert upstream.requests == []


def test_invalid_json_is_400(call, upstream):
    response = call("broadcast", "POST", {"hub": "h"}, raw_body=b'{"target": "t", "target": "u"}',
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "body"


def test_no_token_is_401_with_a_bare_challenge_before_validation(call, upstream):
    response = call("broadcast", "POST", {"hub": "not valid"}, token="")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert upstream.requests == []


def test_invalid_token_is_401_invalid_token_and_not_echoed(call, upstream, identity_provider):
    bad = identity_provider.mint(roles=ALL_PERMISSIONS, lifetime=-600)
    response = call("broadcast", "POST", {"hub": "h"}, body=BODY, token=bad)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert bad not in response.get_body().decode()
    assert bad not in response.headers["WWW-Authenticate"]
    assert upstream.requests == []


def test_missing_permission_is_403_naming_it_after_validation(call, upstream):
    response = call("broadcast", "POST", {"hub": "h"}, body=BODY, roles=["SignalR.Read"])
    assert response.status_code == 403
    assert "SignalR.Send" in problem(response)["detail"]
    assert call("broadcast", "POST", {"hub": "1"}, body=BODY, roles=["SignalR.Read"]).status_code == 400
    assert upstream.requests == []


def test_scopes_grant_the_same_permissions_as_roles(call, upstream, identity_provider):
    token = identity_provider.mint(scopes=["SignalR.Send"])
    assert call("broadcast", "POST", {"hub": "h"}, body=BODY, token=token).status_code == 202


def test_a_token_with_no_permissions_is_403(call, upstream):
    assert call("userExists", "GET", {"hub": "h", "user": "u"}, roles=[]).status_code == 403
    assert upstream.requests == []


def test_disallowed_hub_is_403_without_an_upstream_call(call, upstream, secured_env):
    from functions.core.facade import reset_facade

    secured_env.setenv("SIGNALR_ALLOWED_HUBS", "chat, News")
    reset_facade()
    assert call("broadcast", "POST", {"hub": "NEWS"}, body=BODY).status_code == 202
    response = call("broadcast", "POST", {"hub": "other"}, body=BODY)
    assert response.status_code == 403
    assert "other" in problem(response)["detail"]
    assert len(upstream.requests) == 1


def test_upstream_throttling_reaches_the_caller_as_503_with_retry_after(call, upstream):
    upstream.default = Answer(429, {"Retry-After": "120"})
    response = call("broadcast", "POST", {"hub": "h"}, body=BODY)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"


def test_a_broken_connection_string_is_500_without_details_and_logged_by_key_name(call, upstream, secured_env,
                                                                                  caplog):
    from functions.core.facade import reset_facade

    secured_env.setenv("AzureSignalRConnectionString", "Endpoint=https://x;Port=99999;AccessKey=s3cr3t-value")
    reset_facade()
    with caplog.at_level(logging.ERROR):
        response = call("broadcast", "POST", {"hub": "h"}, body=BODY)
    assert response.status_code == 500
    assert "Port" not in problem(response)["detail"]
    assert "Port must be an integer" in caplog.text
    assert "s3cr3t-value" not in caplog.text
    assert "s3cr3t-value" not in response.get_body().decode()
