"""Batch messages through the queue function called directly, against the SignalR stand-in."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pytest

from support.bindings import OutCapture, queue_message
from support.queue_cases import PAYLOAD
from support.recording_upstream import Answer, Rule


def send_to(user: str, **extra) -> dict:
    return {"operation": "sendToUser", "hub": "chat", "user": user, "payload": PAYLOAD, **extra}


@dataclass
class Written:
    dead_letters: list[dict]
    requeue: dict | None
    poison: list[dict]


@pytest.fixture
def execute(registered_functions, facade_env):
    function = registered_functions["executeCommand"].get_user_function()

    def run(body, **kwargs) -> Written:
        deadletter, requeue, poison = OutCapture(), OutCapture(), OutCapture()
        function(queue_message(json.dumps(body), **kwargs), deadletter, requeue, poison)
        return Written([json.loads(r) for r in deadletter.value or []],
                       json.loads(requeue.value) if requeue.value else None,
                       [json.loads(r) for r in poison.value or []])

    return run


def users_sent(upstream) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in upstream.requests]


def test_a_batch_message_delivers_every_item_once_and_writes_nothing_else(execute, upstream):
    written = execute([send_to(f"u{i}") for i in range(30)])
    assert written == Written([], None, [])
    assert sorted(users_sent(upstream)) == sorted(f"u{i}" for i in range(30))


def test_items_that_fail_for_good_are_dead_lettered_one_record_each_with_index_item_and_reason(execute, upstream):
    upstream.add_rule(Rule("/api/v1/hubs/chat/groups/g/connections/gone", Answer(404)))
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/bad", Answer(400)))
    items = [send_to("u0"), {"operation": "sendToUser", "hub": "chat", "payload": PAYLOAD},
             {"operation": "addConnectionToGroup", "hub": "chat", "group": "g", "connectionId": "gone"},
             send_to("bad"), {"operation": "userExists", "hub": "chat", "user": "u"}, "not an object"]
    written = execute(items, id="batch-1")
    by_index = {r["index"]: r for r in written.dead_letters}
    assert sorted(by_index) == [1, 2, 3, 4, 5]
    assert by_index[1]["reason"].startswith("validation")
    assert by_index[1]["errors"][0]["field"] == "user"
    assert by_index[2]["reason"].startswith("not-found")
    assert by_index[3]["reason"].startswith("upstream-rejected")
    assert by_index[4]["reason"].startswith("operation-not-allowed")
    assert by_index[5]["item"] == "not an object"
    assert all(by_index[i]["item"] == items[i] and by_index[i]["messageId"] == "batch-1" for i in by_index)
    assert written.requeue is None
    assert written.poison == []
    assert sorted(users_sent(upstream)) == ["bad", "gone", "u0"]


def test_transient_failures_go_back_as_one_message_with_the_remainder_and_the_next_attempt(execute, upstream, caplog):
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/u3", Answer(500)))
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/u7", Answer(503, {"Retry-After": "0"})))
    items = [send_to(f"u{i}") for i in range(10)]
    with caplog.at_level(logging.INFO, logger="functions.queue.trigger"):
        written = execute(items)
    assert written.dead_letters == []
    assert written.poison == []
    assert written.requeue == {"commands": [items[3], items[7]], "indexes": [3, 7], "attempt": 2, "ordered": False}
    assert "delivered=8 deadLettered=0 requeued=2 poisoned=0" in caplog.text

    # The re-queued message runs only what was left: nothing delivered is sent twice.
    upstream.reset()
    again = execute(written.requeue, dequeue_count=1)
    assert again == Written([], None, [])
    assert sorted(users_sent(upstream)) == ["u3", "u7"]


def test_after_the_attempt_limit_what_still_fails_is_poisoned_one_record_each(execute, upstream, facade_env):
    facade_env.setenv("SIGNALR_BATCH_MAX_ATTEMPTS", "3")
    from functions.core.facade import reset_facade

    reset_facade()
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/", Answer(500)))
    written = execute({"commands": [send_to("a"), send_to("b")], "indexes": [4, 9], "attempt": 3})
    assert written.requeue is None
    assert written.dead_letters == []
    assert [(r["index"], r["item"]["user"], r["attempt"]) for r in written.poison] == [(4, "a", 3), (9, "b", 3)]
    assert all(r["reason"].startswith("attempts-exhausted") for r in written.poison)


def test_an_ordered_batch_stops_at_a_transient_failure_and_requeues_the_rest_in_order(execute, upstream):
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/u2", Answer(500)))
    items = [send_to(f"u{i}") for i in range(5)]
    written = execute({"commands": items, "ordered": True})
    assert users_sent(upstream) == ["u0", "u1", "u2"]
    assert written.requeue == {"commands": items[2:], "indexes": [2, 3, 4], "attempt": 2, "ordered": True}


def test_a_batch_message_never_raises_so_the_host_never_reruns_what_was_sent(execute, upstream):
    upstream.default = Answer(503, {"Retry-After": "600"})  # longer than the client waits
    written = execute([send_to("a"), send_to("b")])
    assert written.requeue["indexes"] == [0, 1]


def test_items_for_a_hub_that_is_not_allowed_are_dead_lettered_unsent(execute, upstream, facade_env):
    facade_env.setenv("SIGNALR_ALLOWED_HUBS", "other")
    from functions.core.facade import reset_facade

    reset_facade()
    written = execute([send_to("a"), {**send_to("b"), "hub": "other"}])
    assert [r["reason"].split(":")[0] for r in written.dead_letters] == ["forbidden"]
    assert users_sent(upstream) == ["b"]


def test_an_execute_item_with_its_own_commands_field_runs_inside_a_batch(execute, upstream):
    from support.queue_cases import COMMANDS

    item = {"operation": "executeCommands", "hub": "chat", "filter": "'g' in groups", "commands": COMMANDS}
    written = execute([item, send_to("u1")])
    assert written == Written([], None, [])
    assert sorted(r.path for r in upstream.requests) == ["/api/hubs/chat/:execute", "/api/v1/hubs/chat/users/u1"]
