"""Regressions for what fuzzing the local stack found (bench.fuzz), each pinned at the unit level."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import azure.functions as func
import jsonschema_rs
import pytest

from devstack.idp import ALL_PERMISSIONS
from functions.catalog.operations import GROUP, HUB, USER
from functions.catalog.rules import PY_WHITESPACE
from functions.core.queued import command_from_message, read_message
from functions.http.openapi import openapi_document
from support.recording_upstream import Answer


@pytest.fixture
def call(registered_functions, secured_env, identity_provider):
    def run(name: str, method: str, params: dict[str, str], body: object = None) -> func.HttpResponse:
        function = registered_functions[name]
        path = function.get_trigger().route.format(**{k: quote(v, safe="") for k, v in params.items()})
        headers = {"Authorization": f"Bearer {identity_provider.mint(roles=ALL_PERMISSIONS)}"}
        data = b""
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = func.HttpRequest(method, f"http://127.0.0.1/api/{path}", headers=headers, params={},
                                   route_params=params, body=data)
        return function.get_user_function()(request)

    return run


@pytest.mark.parametrize(("name", "method", "params"), [
    # Upstream, ".." would resolve: this would have become closeConnection (another permission).
    ("removeConnectionFromGroup", "DELETE", {"hub": "h", "group": "..", "connectionId": "c1"}),
    # ... and this a broadcast to the whole hub.
    ("sendToConnection", "POST", {"hub": "h", "connectionId": ".."}),
    ("removeUserFromAllGroups", "DELETE", {"hub": "h", "user": "."}),
    ("addUserToGroup", "PUT", {"hub": "h", "group": ".", "user": "u"}),
])
def test_dot_segment_ids_are_refused_before_anything_goes_upstream(call, upstream, name, method, params):
    body = {"target": "t", "arguments": []} if method == "POST" else None
    response = call(name, method, params, body)
    assert response.status_code == 400
    assert json.loads(response.get_body())["type"].endswith(":validation")
    assert upstream.requests == []


def test_dot_segment_ids_are_dead_letter_material_on_the_queue_too():
    with pytest.raises(Exception, match="must not be '.' or '..'"):
        command_from_message(read_message(json.dumps({"operation": "sendToConnection", "hub": "h", "connectionId": "..",
                                                      "payload": {"target": "t", "arguments": []}})))


def test_ids_that_merely_contain_dots_still_pass(call, upstream):
    upstream.answer(Answer(202))
    assert call("sendToConnection", "POST", {"hub": "h", "connectionId": "..."}, {"target": "t"}).status_code == 202
    assert upstream.requests[0].raw_path.endswith("/connections/...")


def test_closing_a_connection_that_is_gone_is_a_404_not_a_502(call, upstream):
    upstream.answer(Answer(404, {"x-ms-error-code": "Warning.Connection.NotExisted"}))
    response = call("closeConnection", "DELETE", {"hub": "h", "connectionId": "gone"})
    assert response.status_code == 404
    assert json.loads(response.get_body())["type"].endswith(":not-found")
    documented = openapi_document()["paths"]["/api/v1/hubs/{hub}/connections/{connectionId}"]["delete"]["responses"]
    assert "404" in documented


def test_the_whitespace_class_is_exactly_what_python_strips():
    whitespace = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    blank = re.compile(f"^[{PY_WHITESPACE}]$")
    assert {chr(c) for c in range(0x110000) if blank.match(chr(c))} == whitespace


@pytest.mark.parametrize("group", ["\x1e", "\x85", " \u3000\t", ".", ".."])
def test_groups_the_facade_refuses_are_invalid_in_the_document(group):
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(GROUP.rule.schema, group)


@pytest.mark.parametrize("payload", [
    {"target": "t", "arguments": [], "Arguments": []},
    {"target": "t", "Target": "t"},
    {"arguments": []},
    {"target": "\x1f"},
])
def test_payloads_the_facade_refuses_are_invalid_in_the_document(payload):
    schema = openapi_document()["components"]["schemas"]["PayloadMessage"]
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(schema, payload)


def test_every_operation_documents_the_hosts_414_for_long_urls():
    for path, item in openapi_document()["paths"].items():
        if path.startswith("/api/v1/hubs/") and not path.endswith("/negotiate"):
            assert all("414" in operation["responses"] for operation in item.values()), path


@pytest.mark.parametrize(("name", "value"), [("group", "a b"), ("group", "..."), ("user", "u@x"), ("hub", "Chat_1")])
def test_values_the_facade_accepts_are_valid_in_the_document(name, value):
    jsonschema_rs.validate({"group": GROUP, "user": USER, "hub": HUB}[name].rule.schema, value)
