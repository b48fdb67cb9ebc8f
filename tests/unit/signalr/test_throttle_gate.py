"""A 429/503 pauses every request to the endpoint, not only the throttled one (no retry storm)."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from functions.catalog.operations import Permission
from functions.signalr.throttle import ThrottleGate
from support.recording_upstream import Answer, Rule

PAYLOAD = {"target": "t", "arguments": []}


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_pause_is_never_shortened_by_a_shorter_one():
    time = FakeTime()
    gate = ThrottleGate(time.clock, time.sleep)
    gate.pause(5)
    gate.pause(1)
    assert gate.remaining() == 5
    assert gate.wait() == 5
    assert gate.remaining() == 0
    assert gate.pauses == 2


def test_an_open_gate_does_not_wait():
    time = FakeTime()
    gate = ThrottleGate(time.clock, time.sleep)
    gate.pause(0)
    assert gate.wait() == 0
    assert time.slept == []


def test_a_throttled_item_holds_back_the_rest_of_the_batch_until_retry_after(
        registered_functions, secured_env, identity_provider, upstream):
    secured_env.setenv("SIGNALR_BATCH_PARALLELISM", "3")
    from functions.core.facade import reset_facade

    reset_facade()
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/u0", Answer(429, {"Retry-After": "1"}), times=1))
    # u1 and u2 answer late, so u3.. are only sent after the 429 has come back and closed the gate.
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/u1", Answer(202, delay=0.3)))
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/u2", Answer(202, delay=0.3)))
    items = [{"operation": "sendToUser", "hub": "chat", "user": f"u{i}", "payload": PAYLOAD} for i in range(6)]
    request = func.HttpRequest(
        "POST", "http://127.0.0.1/api/v1/batch", body=json.dumps(items).encode(),
        headers={"Authorization": f"Bearer {identity_provider.mint(roles=[Permission.SEND.value])}",
                 "Content-Type": "application/json"})
    response = registered_functions["batch"].get_user_function()(request)
    assert [r["status"] for r in json.loads(response.get_body())["results"]] == [202] * 6
    throttled_at = upstream.requests_to("/api/v1/hubs/chat/users/u0")[0].received_at
    during_pause = [r.path for r in upstream.requests if throttled_at + 0.1 < r.received_at < throttled_at + 0.9]
    assert during_pause == []
    assert len(upstream.requests) == 7  # six items, one retry


@pytest.mark.parametrize("status", [429, 503])
def test_a_retry_after_longer_than_the_cap_fails_the_next_requests_fast_without_sending(
        registered_functions, secured_env, identity_provider, upstream, status):
    upstream.add_rule(Rule("/api/v1/hubs/chat/users/first", Answer(status, {"Retry-After": "120"}), times=1))
    token = identity_provider.mint(roles=[Permission.SEND.value])
    function = registered_functions["sendToUser"].get_user_function()

    def send(user: str) -> func.HttpResponse:
        return function(func.HttpRequest(
            "POST", f"http://127.0.0.1/api/v1/hubs/chat/users/{user}", route_params={"hub": "chat", "user": user},
            body=json.dumps(PAYLOAD).encode(), headers={"Authorization": f"Bearer {token}",
                                                        "Content-Type": "application/json"}))

    first, second = send("first"), send("second")
    assert first.status_code == second.status_code == 503
    assert 110 <= int(second.headers["Retry-After"]) <= 120
    assert [r.path for r in upstream.requests] == ["/api/v1/hubs/chat/users/first"]
