"""Hostile input never raises (property-based, hypothesis): every entry point, generated attacks.

HTTP functions answer only statuses their OpenAPI entry documents, never 500; a queue message
is executed or dead-lettered, never raised; nothing invalid reaches the SignalR stand-in.
Examples per test: ``HYPOTHESIS_PROFILE=ci`` (the default, bounded for ``make test``) or
``fuzz`` (``make fuzz`` runs this module with it, many more).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote, unquote

import azure.functions as func
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.idp import ALL_PERMISSIONS
from functions.catalog.operations import OPERATIONS, Location, OperationSpec
from functions.core.json_input import MAX_DEPTH, find_invalid_string, nesting_depth
from functions.http.openapi import openapi_document
from support.bindings import OutCapture, queue_message
from support.recording_upstream import Answer

settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=int(os.environ.get("HYPOTHESIS_FUZZ_EXAMPLES", "1500")), deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Any code point, lone surrogates and controls included, plus the values rules are made of.
any_char = st.one_of(st.characters(exclude_categories=()), st.sampled_from("\ud800\udbff\udc00\udfff\x00\n\u2028"))
edge_text = st.sampled_from(["", " ", ".", "..", "\ud800", "a\udfffb", "\x00", "\r\n", "\u0085", "a" * 1025,
                             "%2F", "../x", "chat", "u1", "c1", "g"])
hostile_text = st.one_of(edge_text, st.text(any_char, max_size=40), st.text(any_char, min_size=1000, max_size=1100))


VALID = {"hub": "chat", "group": "room-1", "user": "u1", "connectionId": "c1", "excluded": "c2", "reason": "bye",
         "ttl": "60", "maxpagesize": "2", "top": "5", "continuationToken": "dG9r", "filter": "userId eq 'u1'"}


def mostly(valid: str, hostile: st.SearchStrategy[Any] = hostile_text) -> st.SearchStrategy[Any]:
    """A valid value three times in four, else a hostile one: an attack must get past the other fields."""
    return st.one_of(st.just(valid), st.just(valid), st.just(valid), hostile)


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text)
json_values = st.recursive(json_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(hostile_text, children, max_size=4)), max_leaves=20)
# Arrays nested around the depth limit and far past it (but within what the test itself can build).
deep_values = st.integers(MAX_DEPTH - 3, 400).map(lambda depth: json.loads(nested(depth)))
argument = st.one_of(edge_text, json_values, deep_values)


@st.composite
def hostile_json_text(draw: st.DrawFn) -> str:
    """JSON-ish text: valid documents (surrogates escaped as \\uXXXX), deep nests, broken and strange forms."""
    kind = draw(st.sampled_from(["value", "payload", "deep", "broken"]))
    if kind == "value":
        return json.dumps(draw(json_values))
    if kind == "payload":
        payload = {"target": draw(hostile_text), "arguments": draw(st.lists(json_values, max_size=3))}
        depth = draw(st.integers(0, 6000))
        payload["arguments"].append(json.loads(nested(min(depth, 500))) if depth <= 500 else None)
        text = json.dumps(payload)
        return text.replace("null]}", nested(depth) + "]}") if depth > 500 else text
    if kind == "deep":
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        depth = draw(st.integers(MAX_DEPTH - 2, 6000))
        return opener * depth + "0" + closer * draw(st.integers(0, depth))
    return draw(st.sampled_from(['{"a":1,"a":2}', "NaN", '{"a": Infinity}', "{", '"\\ud800"', '["\\udc00x"]',
                                 '{"\\ud800": 1}', "\ufeff{}", ""]))


hostile_body = st.one_of(
    hostile_json_text().map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.builds(lambda target, arguments: json.dumps({"target": target, "arguments": arguments}).encode(),
              mostly("newMessage"), st.lists(argument, max_size=3)),
    st.binary(max_size=300),
)


def documented_statuses(route: str, method: str) -> set[int]:
    operation = openapi_document()["paths"]["/api/" + route][method.lower()]
    return {int(code) for code in operation["responses"]}


def assert_nothing_invalid_went_upstream(upstream: Any) -> None:
    for request in upstream.requests:
        path = request.raw_path.split("?")[0]
        assert path.isascii()
        unquote(path, errors="strict")  # every segment is percent-encoded valid UTF-8
        for _, value in request.query:
            assert find_invalid_string(value) is None
        if request.body:
            document = json.loads(request.body.decode("utf-8"))
            assert find_invalid_string(document) is None
            assert nesting_depth(document) <= MAX_DEPTH


def http_request(spec_route: str, method: str, route_params: dict[str, str], query: list[tuple[str, str]],
                 body: bytes, token: str, content_type: str) -> func.HttpRequest:
    query_text = "&".join(f"{quote(k, errors='surrogatepass')}={quote(v, errors='surrogatepass')}" for k, v in query)
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    return func.HttpRequest(method, f"http://127.0.0.1:7071/api/{spec_route}?{query_text}", headers=headers,
                            params={}, route_params=route_params, body=body)


@pytest.fixture(scope="module")
def full_token(identity_provider) -> str:
    return identity_provider.mint(roles=ALL_PERMISSIONS, lifetime=3600)


def _route_params(spec: OperationSpec) -> st.SearchStrategy[dict[str, str]]:
    names = [p.name for p in spec.params if p.location is Location.PATH]
    return st.fixed_dictionaries({name: mostly(VALID[name]) for name in names})


def _query(spec: OperationSpec) -> st.SearchStrategy[list[tuple[str, str]]]:
    fields = [st.tuples(st.just(p.name), mostly(VALID.get(p.name, "1"))) for p in spec.query_params]
    return st.lists(st.one_of(*fields, st.tuples(hostile_text, hostile_text)), max_size=4)


@pytest.mark.parametrize("spec", OPERATIONS, ids=lambda spec: spec.name)
def test_no_http_input_makes_an_operation_raise_or_answer_undocumented(spec, registered_functions, secured_env,
                                                                      upstream, full_token):
    function = registered_functions[spec.name].get_user_function()

    @given(route_params=_route_params(spec), query=_query(spec), body=hostile_body,
           content_type=st.sampled_from(["application/json", "application/json", "text/plain", ""]))
    def attack(route_params, query, body, content_type):
        upstream.reset()
        upstream.default = Answer(spec.success[0])
        response = function(http_request(spec.path, spec.method, route_params, query, body, full_token, content_type))
        assert response.status_code in documented_statuses(spec.path, spec.method)
        assert response.status_code != 500
        assert_nothing_invalid_went_upstream(upstream)

    attack()


def test_no_hub_name_makes_negotiate_raise(registered_functions, secured_env, upstream, full_token):
    function = registered_functions["negotiate"].get_user_function()

    @given(hub=hostile_text)
    def attack(hub):
        response = function(http_request("v1/hubs/{hub}/negotiate", "POST", {"hub": hub}, [], b"", full_token, ""))
        assert response.status_code in documented_statuses("v1/hubs/{hub}/negotiate", "POST") - {500}

    attack()


@st.composite
def hostile_queue_message(draw: st.DrawFn) -> tuple[bytes, int]:
    """Queue messages (with the status the stand-in answers): commands with hostile fields, hostile JSON, bytes."""
    kind = draw(st.sampled_from(["command", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), 202
    if kind == "json":
        return draw(hostile_json_text()).encode("utf-8", "surrogatepass"), 202
    spec = draw(st.sampled_from([op for op in OPERATIONS if op.queueable]))
    message: dict[str, Any] = {"operation": spec.name}
    for param in spec.params:
        if draw(st.booleans()) or param.required:
            value = mostly(VALID.get(param.name, "1"), st.one_of(hostile_text, json_values))
            message[param.name] = draw(st.lists(value, max_size=3) if param.repeated else value)
    if spec.body is not None:
        payload = {"target": draw(mostly("newMessage")), "arguments": draw(st.lists(argument, max_size=3))}
        if spec.body.queue_field == "commands":  # :execute takes an array of commands
            payload = [{"type": "SendMessage", "message": payload}]
        message[spec.body.queue_field] = payload
    if draw(st.booleans()):
        message["id"] = draw(mostly("order-42"))
    # ensure_ascii: lone surrogates travel as \\u escapes, as a writer's JSON library would send them.
    return json.dumps(message).encode("utf-8"), spec.success[0]


def test_no_queue_message_raises_it_is_executed_or_dead_lettered(registered_functions, facade_env, upstream):
    function = registered_functions["executeCommand"].get_user_function()

    @given(message=hostile_queue_message())
    @settings(max_examples=settings().max_examples * 4)  # one cheap call each: cover every operation well
    def attack(message):
        body, success = message
        upstream.reset()
        upstream.default = Answer(success)
        deadletter = OutCapture()
        function(queue_message(body), deadletter, OutCapture(), OutCapture())  # raising here fails the test
        records = [json.loads(record) for record in deadletter.value or []]
        assert all(record["reason"] for record in records)
        if records and all("item" in record for record in records):  # a batch's refused items, one record each
            data = json.loads(body)
            items = data if isinstance(data, list) else data["commands"]
            assert len(upstream.requests) + len(records) == len(items), "each item sent or dead-lettered"
        elif not records and len(upstream.requests) > 1:  # a batch whose items all went out
            data = json.loads(body)
            assert len(upstream.requests) == len(data if isinstance(data, list) else data["commands"])
        else:  # one command, or a message refused whole (a record carrying the original)
            executed = len(upstream.requests) == 1
            assert executed != bool(records), "exactly one of executed or dead-lettered"
            assert len(records) <= 1
            assert all("original" in record or "originalBase64" in record for record in records)
        assert_nothing_invalid_went_upstream(upstream)

    attack()
