"""SIGNALR_CALLER_LIMIT: a token bucket per caller and worker; 429 with Retry-After; batches all or none (issue 22)."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from functions.core.batch import MAX_BATCH_ITEMS
from functions.core.caller_limit import DEFAULT_RATE, CallerLimit, burst_for
from functions.core.settings import CALLER_LIMIT, Settings
from support.http_calls import problem

BODY = {"target": "newMessage", "arguments": ["hi"]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_admits_its_burst_then_refuses_with_the_wait_and_refills_at_the_rate():
    clock = Clock()
    limit = CallerLimit(2, 4, clock=clock)
    assert [limit.take("a") for _ in range(4)] == [0, 0, 0, 0]
    assert limit.take("a") == 1  # one token at 2/s: half a second, said as a whole second
    assert limit.take("b") == 0  # callers do not share a bucket
    clock.now += 1.0
    assert (limit.take("a"), limit.take("a"), limit.take("a")) == (0, 0, 1)
    clock.now += 100
    assert limit.take("a", 4) == 0  # refilled, but never past the burst
    assert limit.take("a") == 1


def test_a_batch_takes_one_per_item_all_or_none():
    clock = Clock()
    limit = CallerLimit(1, 5, clock=clock)
    assert limit.take("a", 3) == 0
    assert limit.take("a", 3) == 1  # 2 left, 3 asked: refused whole, nothing taken
    assert limit.take("a", 2) == 0
    assert limit.take("a", 9) == 5  # more than a full bucket: the wait for a full one (the caller must split)


def test_the_defaults_are_documented_and_a_full_batch_always_fits_a_full_bucket():
    assert DEFAULT_RATE == Settings.from_environ({}).caller_limit == 100
    assert burst_for(DEFAULT_RATE) == 1000
    assert burst_for(1) == MAX_BATCH_ITEMS
    assert CallerLimit(1).take("a", MAX_BATCH_ITEMS) == 0


def test_the_number_of_buckets_is_bounded():
    limit = CallerLimit(1, 1, clock=Clock(), max_callers=3)
    for key in "abcd":
        limit.take(key)
    assert limit.take("a") == 0  # the oldest was dropped: it starts again full
    assert limit.take("d") == 1


@pytest.mark.parametrize(("value", "rate", "problem_named"), [
    ("", 100, False), ("0", 0, False), ("250", 250, False), ("-1", 100, True), ("fast", 100, True),
    ("9" * 5000, 100, True)])
def test_the_setting(value, rate, problem_named):
    settings = Settings.from_environ({CALLER_LIMIT: value})
    assert settings.caller_limit == rate
    assert any(CALLER_LIMIT in p for p in settings.read_problems) is problem_named


@pytest.fixture
def tight_limit(secured_env):
    """The real pipeline with a small bucket (3 commands, 1 per second) and a clock the test moves."""
    from functions.core.facade import get_facade

    clock = Clock()
    get_facade().__dict__["_built_caller_limit"] = CallerLimit(1, 3, clock=clock)
    return clock


def sends(upstream) -> int:
    return len(upstream.requests_to("/api/v1/hubs/chat"))


def test_a_caller_over_its_budget_gets_429_with_retry_after_and_nothing_is_sent(call, upstream, tight_limit):
    for _ in range(3):
        assert call("broadcast", "POST", {"hub": "chat"}, body=BODY).status_code == 202
    refused = call("broadcast", "POST", {"hub": "chat"}, body=BODY)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert problem(refused)["type"].endswith(":too-many-requests")
    assert sends(upstream) == 3
    tight_limit.now += 1
    assert call("broadcast", "POST", {"hub": "chat"}, body=BODY).status_code == 202


def test_callers_are_told_apart_by_tenant_and_oid(call, upstream, tight_limit, identity_provider):
    for _ in range(3):
        call("broadcast", "POST", {"hub": "chat"}, body=BODY)
    other = identity_provider.mint(roles=["SignalR.Send"], user="another-user")
    assert call("broadcast", "POST", {"hub": "chat"}, body=BODY, token=other).status_code == 202


def test_a_batch_counts_each_item_and_is_refused_whole_when_it_does_not_fit(
        registered_functions, identity_provider, upstream, tight_limit):
    function = registered_functions["batch"].get_user_function()
    token = identity_provider.mint(roles=["SignalR.Send"])

    def post(count):
        items = [{"operation": "sendToUser", "hub": "chat", "user": f"u{i}", "payload": BODY} for i in range(count)]
        request = func.HttpRequest("POST", "http://127.0.0.1:7071/api/v1/batch", params={}, route_params={},
                                   headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                                   body=json.dumps(items).encode())
        return function(request)

    assert post(2).status_code == 207
    refused = post(2)  # one token left, two items: refused whole
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert len(upstream.requests_to("/api/v1/hubs/chat/users/")) == 2
    assert post(1).status_code == 207


def test_zero_turns_the_limit_off(secured_env):
    from functions.core.facade import get_facade, reset_facade

    secured_env.setenv(CALLER_LIMIT, "0")
    reset_facade()
    assert get_facade().caller_limit is None
