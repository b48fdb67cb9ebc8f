"""The queue function called directly, as the worker would, against the SignalR stand-in."""

from __future__ import annotations

import json
import logging

import pytest

from functions.core.errors import UpstreamServerError, UpstreamUnavailable
from support.bindings import OutCapture, one, queue_message
from support.queue_cases import CASES, PAYLOAD
from support.recording_upstream import Answer


@pytest.fixture
def execute(registered_functions, facade_env):
    function = registered_functions["executeCommand"].get_user_function()

    def run(body, **kwargs):
        deadletter = OutCapture()
        function(queue_message(body if isinstance(body, str | bytes) else json.dumps(body), **kwargs), deadletter,
                 OutCapture(), OutCapture())
        return json.loads(one(deadletter.value)) if deadletter.value else None

    return run


@pytest.mark.parametrize(("message", "method", "path", "query"), CASES, ids=[c[0]["operation"] for c in CASES])
def test_each_operation_reaches_signalr_once_with_the_right_request(execute, upstream, message, method, path, query):
    if message["operation"] in ("addConnectionToGroup", "removeConnectionFromGroup"):
        upstream.answer(Answer(200))
    assert execute(message) is None
    (request,) = upstream.requests
    assert (request.method, request.path, request.query) == (method, path, query)
    if "payload" in message:
        assert request.json() == {"Target": "newMessage", "Arguments": ["hello"]}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "validation"),
        ("1", "validation"),
        ("[]", "validation"),  # a batch with no commands
        ({"commands": [PAYLOAD], "attempt": 0}, "validation"),
        ({"operation": "explode", "hub": "chat"}, "validation"),
        ({"operation": "userExists", "hub": "chat", "user": "u"}, "operation-not-allowed"),
        ({"operation": "broadcast", "hub": "1chat", "payload": PAYLOAD}, "validation"),
        ({"operation": "broadcast", "hub": "chat"}, "validation"),
        ({"operation": "broadcast", "hub": "chat", "payload": PAYLOAD, "group": "g"}, "validation"),
        ({"operation": "addUserToGroup", "hub": "chat", "group": "g", "user": "u", "ttl": "sixty"}, "validation"),
        (b"\xff\xfe", "bad-request"),
    ],
)
def test_invalid_messages_are_dead_lettered_verbatim_with_their_reason(execute, upstream, body, reason):
    record = execute(body)
    assert record["reason"].startswith(reason)
    if isinstance(body, bytes):
        assert "originalBase64" in record
    else:
        assert record["original"] == (body if isinstance(body, str) else json.dumps(body))
    assert record["messageId"] == "msg-1"
    assert record["deadLetteredAt"]
    assert upstream.requests == []


def test_field_errors_are_listed_in_the_dead_letter(execute):
    record = execute({"operation": "sendToGroup", "hub": "chat", "group": " ", "payload": {"target": ""}})
    assert sorted(e["field"] for e in record["errors"]) == ["group", "payload"]


def test_a_disallowed_hub_is_dead_lettered_without_a_call(execute, upstream, facade_env):
    facade_env.setenv("SIGNALR_ALLOWED_HUBS", "other")
    from functions.core.facade import reset_facade

    reset_facade()
    record = execute({"operation": "broadcast", "hub": "chat", "payload": PAYLOAD})
    assert record["reason"].startswith("forbidden")
    assert upstream.requests == []


def test_an_upstream_400_is_dead_lettered(execute, upstream):
    upstream.answer(Answer(400))
    assert execute({"operation": "broadcast", "hub": "chat", "payload": PAYLOAD})["reason"].startswith("upstream")


def test_transient_failures_raise_for_the_host_to_retry(execute, upstream, caplog):
    upstream.answer(Answer(500))
    with caplog.at_level(logging.WARNING), pytest.raises(UpstreamServerError):
        execute({"operation": "broadcast", "hub": "chat", "payload": PAYLOAD, "id": "corr-9"}, dequeue_count=2)
    assert "corr-9" in caplog.text
    assert "dequeue_count=2" in caplog.text


def test_throttling_raises_after_the_clients_own_retries(execute, upstream):
    upstream.default = Answer(503, {"Retry-After": "600"})
    with pytest.raises(UpstreamUnavailable):
        execute({"operation": "broadcast", "hub": "chat", "payload": PAYLOAD})


def test_adding_a_missing_connection_to_a_group_is_dead_lettered(execute, upstream):
    upstream.answer(Answer(404))
    record = execute({"operation": "addConnectionToGroup", "hub": "chat", "group": "g", "connectionId": "gone"})
    assert record["reason"].startswith("not-found")


def test_every_outcome_is_logged_once_with_ids(execute, upstream, caplog):
    with caplog.at_level(logging.INFO, logger="functions.queue.trigger"):
        execute({"operation": "broadcast", "hub": "chat", "payload": PAYLOAD, "id": "corr-1"})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "functions.queue.trigger"]
    assert "executed" in line
    assert "msg-1" in line
    assert "broadcast" in line
    assert "corr-1" in line
