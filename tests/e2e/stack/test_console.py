"""What a newcomer sees: `make run` starts again after Ctrl-C, and an idle console stays quiet."""

from __future__ import annotations

import time

import pytest

from clients.node_client import node_available
from devstack.azurite import ACCOUNT, ACCOUNT_KEY
from devstack.chat_backend import MAX_POLL_INTERVAL, MIN_POLL_INTERVAL, next_poll_interval
from devstack.child_stack import start_stack, stop_stack
from devstack.stack import COMMANDS_QUEUE

pytestmark = pytest.mark.skipif(not node_available(), reason="node_modules not installed (run make setup)")

IDLE_SECONDS = 20
IDLE_LINE_BUDGET = 3  # idle means nothing happens: a line or two of the platform at most


def queue_client(stack, name: str):
    from azure.storage.queue import QueueClient

    connection = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                  f"QueueEndpoint=http://127.0.0.1:{stack.ports['queue']}/{ACCOUNT};")
    return QueueClient.from_connection_string(connection, name)


def test_an_idle_stack_prints_almost_nothing_and_a_request_prints_one_line(tmp_path):
    stack = start_stack(tmp_path)
    try:
        start = len(stack.output)
        time.sleep(IDLE_SECONDS)  # the claim is about wall-clock idleness: nothing to inject here
        idle = stack.output[start:]
        assert len(idle) <= IDLE_LINE_BUDGET, "".join(idle)[-3000:]
        assert stack.output.count("Functions:\n") == 1  # the function list is printed once

        before = len(stack.output)
        response = stack.call("POST", "/api/v1/hubs/chat", stack.token("--role", "SignalR.Send"),
                              json={"target": "t", "arguments": []})
        assert response.status_code == 202
        stack.wait_for_output("broadcast POST /api/v1/hubs/chat -> 202", timeout=10)
        time.sleep(0.5)
        lines = [line for line in stack.output[before:] if line.strip()]
        assert len(lines) == 1, lines
        assert "Bearer" not in lines[0]
        assert "eyJ" not in lines[0]
    finally:
        stop_stack(stack)


def test_the_stack_starts_again_on_the_same_state_directory_with_messages_left_in_a_queue(tmp_path):
    stack = start_stack(tmp_path, "--no-backend")
    try:
        queue_client(stack, f"{COMMANDS_QUEUE}-invalid").send_message("left behind")
    finally:
        assert stop_stack(stack) == 0

    again = start_stack(tmp_path, "--no-backend")  # raised before the fix: ResourceExistsError
    try:
        assert "Traceback" not in "".join(again.output)
        kept = queue_client(again, f"{COMMANDS_QUEUE}-invalid").peek_messages(max_messages=5)
        assert [m.content for m in kept] == ["left behind"]
    finally:
        assert stop_stack(again) == 0


def test_the_sample_backend_backs_off_on_an_empty_queue_and_returns_to_pace_on_a_message():
    interval = MIN_POLL_INTERVAL
    seen = []
    for _ in range(10):
        interval = next_poll_interval(interval, received=False)
        seen.append(interval)
    assert seen == sorted(seen)
    assert seen[-1] == MAX_POLL_INTERVAL
    assert next_poll_interval(MAX_POLL_INTERVAL, received=True) == MIN_POLL_INTERVAL
