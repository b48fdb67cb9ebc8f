"""The queue function with the 2024-12-01 operations, called directly against the SignalR stand-in."""

from __future__ import annotations

import json

import pytest

from support.bindings import OutCapture, one, queue_message
from support.queue_cases import DATED_CASES, DATED_DEAD_LETTERS
from support.recording_upstream import Answer


@pytest.fixture
def execute(registered_functions, facade_env):
    function = registered_functions["executeCommand"].get_user_function()

    def run(body):
        deadletter = OutCapture()
        function(queue_message(json.dumps(body)), deadletter, OutCapture(), OutCapture())
        return json.loads(one(deadletter.value)) if deadletter.value else None

    return run


@pytest.mark.parametrize(("message", "method", "path", "query", "status"), DATED_CASES,
                         ids=[c[0]["operation"] for c in DATED_CASES])
def test_each_queueable_dated_operation_reaches_signalr_once(execute, upstream, message, method, path, query, status):
    upstream.answer(Answer(status))
    assert execute(message) is None
    (request,) = upstream.requests
    assert (request.method, request.raw_path.split("?")[0], request.query) == (method, path, query)
    if "commands" in message:
        assert request.json() == [{"type": "SendMessage", "message": {"target": "newMessage", "arguments": ["hello"]}},
                                  {"type": "CloseConnection", "reason": "bye"}]


@pytest.mark.parametrize(("message", "reason"), DATED_DEAD_LETTERS,
                         ids=[f"{c[0]['operation']}-{i}" for i, c in enumerate(DATED_DEAD_LETTERS)])
def test_bad_dated_messages_are_dead_lettered_without_a_call(execute, upstream, message, reason):
    record = execute(message)
    assert record["reason"].startswith(reason), record
    assert upstream.requests == []


def test_removing_a_gone_connection_from_all_groups_is_done_not_dead_lettered(execute, upstream):
    upstream.answer(Answer(404))
    assert execute({"operation": "removeConnectionFromAllGroups", "hub": "chat", "connectionId": "gone"}) is None


def test_a_refused_filter_upstream_is_dead_lettered(execute, upstream):
    upstream.answer(Answer(400))
    record = execute({"operation": "executeCommands", "hub": "chat", "filter": "true",
                      "commands": [{"type": "CloseConnection"}]})
    assert record["reason"].startswith("upstream-rejected")
