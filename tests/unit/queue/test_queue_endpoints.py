"""Queued commands over several endpoints: a partly delivered command is retried only where it is owed."""

from __future__ import annotations

import json

import pytest

from functions.core.errors import UpstreamUnavailable
from support.bindings import OutCapture, one, queue_message
from support.recording_upstream import Answer, Rule

PAYLOAD = {"target": "newMessage", "arguments": ["hello"]}
SEND = {"operation": "sendToGroup", "hub": "chat", "group": "g", "payload": PAYLOAD, "id": "c-1"}


@pytest.fixture
def execute(registered_functions, three_endpoints):
    function = registered_functions["executeCommand"].get_user_function()

    def run(body, **kwargs):
        outputs = {name: OutCapture() for name in ("deadletter", "requeue", "poison")}
        function(queue_message(json.dumps(body), **kwargs), *outputs.values())
        return {name: out.value for name, out in outputs.items()}

    return run


def _sends(server) -> int:
    return len(server.requests_to("/api/v1/hubs/chat/groups/g"))


def test_a_command_throttled_on_one_healthy_endpoint_is_requeued_for_that_endpoint_only(execute, three_endpoints):
    three_endpoints["west"].add_rule(Rule("/api/v1/hubs/chat/groups/g", Answer(429, {"Retry-After": "0"})))
    out = execute(SEND)
    assert out["deadletter"] is None
    assert out["poison"] is None
    requeued = json.loads(out["requeue"])
    assert requeued == {**SEND, "endpoints": ["west"], "attempt": 2}
    assert [_sends(s) > 0 for s in three_endpoints.values()] == [True, True, True]

    for server in three_endpoints.values():
        server.reset()
    out = execute(requeued)
    assert out == {"deadletter": None, "requeue": None, "poison": None}
    assert {name: _sends(s) for name, s in three_endpoints.items()} == {"default": 0, "west": 1, "east": 0}


def test_a_requeued_command_still_owed_after_the_last_attempt_is_poisoned(execute, three_endpoints):
    three_endpoints["west"].add_rule(Rule("/api/v1/hubs/chat/groups/g", Answer(429, {"Retry-After": "0"})))
    out = execute({**SEND, "endpoints": ["west", "east"], "attempt": 5})
    record = json.loads(out["poison"][0])
    assert record["reason"].startswith("attempts-exhausted: still failing after 5 attempts on endpoints west")
    assert out["requeue"] is None
    assert {name: _sends(s) > 0 for name, s in three_endpoints.items()} == {
        "default": False, "west": True, "east": True}


def test_a_requeued_command_failing_on_all_it_is_owed_raises_and_the_host_retries_it_as_written(
        execute, three_endpoints):
    three_endpoints["west"].add_rule(Rule("/api/v1/hubs/chat/groups/g", Answer(429, {"Retry-After": "0"})))
    with pytest.raises(UpstreamUnavailable):
        execute({**SEND, "endpoints": ["west"], "attempt": 2})
    assert {name: _sends(s) > 0 for name, s in three_endpoints.items()} == {
        "default": False, "west": True, "east": False}


def test_a_command_failing_everywhere_raises_for_the_host_to_retry_whole(execute, three_endpoints):
    for server in three_endpoints.values():
        server.add_rule(Rule("/api/v1/hubs/chat/groups/g", Answer(429, {"Retry-After": "0"})))
    with pytest.raises(UpstreamUnavailable):
        execute(SEND)


def test_a_command_owed_only_to_an_endpoint_now_down_is_done(execute, three_endpoints):
    three_endpoints["east"].default = Answer(503)
    from functions.core.facade import get_facade

    get_facade().client.prober.probe_all()
    out = execute({**SEND, "endpoints": ["east"], "attempt": 2})
    assert out == {"deadletter": None, "requeue": None, "poison": None}
    assert all(_sends(s) == 0 for s in three_endpoints.values())


@pytest.mark.parametrize("endpoints", [[], "west", ["West"], ["a"] * 17, [1]])
def test_the_endpoints_field_is_checked(execute, endpoints):
    out = execute({**SEND, "endpoints": endpoints})
    assert "endpoints" in json.dumps(json.loads(one(out["deadletter"]))["errors"])


def test_a_batch_item_partly_delivered_is_requeued_naming_its_endpoints(execute, three_endpoints):
    three_endpoints["east"].add_rule(Rule("/api/v1/hubs/chat/groups/g", Answer(429, {"Retry-After": "0"})))
    other = {**SEND, "group": "h", "id": "c-2"}
    out = execute({"commands": [SEND, other]})
    requeued = json.loads(out["requeue"])
    assert requeued["commands"] == [{**SEND, "endpoints": ["east"]}]
    assert requeued["indexes"] == [0]
    for server in three_endpoints.values():
        server.reset()
    assert execute(requeued)["requeue"] is None
    assert {name: _sends(s) for name, s in three_endpoints.items()} == {"default": 0, "west": 0, "east": 1}


def test_only_the_queue_may_name_endpoints_or_an_attempt():
    from functions.core.errors import ValidationError
    from functions.core.queued import command_from_fields

    for field in ({"endpoints": ["west"]}, {"attempt": 2}):
        with pytest.raises(ValidationError):
            command_from_fields({**SEND, **field}, existence_checks=True)  # an HTTP batch item
    assert command_from_fields({**SEND, "endpoints": ["west"]}).endpoints == ("west",)


def test_a_command_naming_an_endpoint_not_configured_is_dead_lettered_not_done(execute, three_endpoints, caplog):
    """Issue 22, item 5: it was logged "executed" and went nowhere."""
    with caplog.at_level("INFO", logger="functions.queue.trigger"):
        out = execute({**SEND, "endpoints": ["nowhere", "west"], "attempt": 2})
    record = json.loads(one(out["deadletter"]))
    assert record["errors"] == [{"field": "endpoints", "message": "names no configured SignalR endpoint: nowhere"}]
    assert (out["requeue"], out["poison"]) == (None, None)
    assert all(_sends(s) == 0 for s in three_endpoints.values())
    assert "executed" not in caplog.text


def test_a_batch_counts_each_item_once_unknown_endpoint_down_endpoint_and_delivered(execute, three_endpoints, caplog):
    """Per item: sent = delivered + dead-lettered + poisoned (+ re-queued); unknown endpoints are dead letters,
    configured but down ones are done."""
    from functions.core.facade import get_facade

    three_endpoints["east"].default = Answer(503)
    get_facade().client.prober.probe_all()
    items = [{**SEND, "id": "to-nowhere", "endpoints": ["gone"]},
             {**SEND, "id": "owed-to-down-east", "endpoints": ["east"]},
             {**SEND, "id": "plain"}]
    with caplog.at_level("INFO", logger="functions.queue"):
        out = execute({"commands": items})
    [record] = [json.loads(r) for r in out["deadletter"]]
    assert (record["index"], record["item"]["id"]) == (0, "to-nowhere")
    assert "gone" in record["errors"][0]["message"]
    assert (out["requeue"], out["poison"]) == (None, None)
    assert "delivered=2 deadLettered=1 requeued=0 poisoned=0" in caplog.text
    assert "count check failed" not in caplog.text
    assert {name: _sends(s) for name, s in three_endpoints.items()} == {"default": 1, "west": 1, "east": 0}
