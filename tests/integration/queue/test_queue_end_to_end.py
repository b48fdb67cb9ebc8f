"""Commands through a real Azurite queue, the local host polling it as the Functions host
would, and the SignalR stand-in: nothing lost, nothing silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.queue_cases import CASES, PAYLOAD
from support.recording_upstream import Answer, Rule
from support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
MAX_DEQUEUE_COUNT = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]["maxDequeueCount"]
LEDGER: dict[str, int] = {"sent": 0}


def send(system, message) -> None:
    system.send(message if isinstance(message, str) else json.dumps(message))
    LEDGER["sent"] += 1


def with_hub(message: dict, hub: str) -> dict:
    return {**message, "hub": hub}


def test_each_operation_reaches_signalr_exactly_once(queue_system):
    upstream = queue_system.upstream
    for index, (message, *_rest) in enumerate(CASES):
        if message["operation"] in ("addConnectionToGroup", "removeConnectionFromGroup"):
            upstream.add_rule(Rule(f"/api/v1/hubs/ops{index}/", Answer(200)))
        send(queue_system, with_hub(message, f"ops{index}"))
    for index, (_message, method, path, query) in enumerate(CASES):
        prefix = path.replace("/api/v1/hubs/chat", f"/api/v1/hubs/ops{index}", 1)
        if prefix == f"/api/v1/hubs/ops{index}":  # broadcast: the hub path itself
            prefix = f"/api/v1/hubs/ops{index}"
        got = wait_until(lambda p=prefix: [r for r in upstream.requests_to(p) if r.path == p], timeout=20,
                         what=f"request to {prefix}")
        assert [(r.method, r.query) for r in got] == [(method, query)]
    wait_until(queue_system.drained, timeout=20, what="queue drained")
    broadcast = upstream.requests_to("/api/v1/hubs/ops0")[0]
    assert broadcast.json() == {"Target": "newMessage", "Arguments": ["hello"]}


@pytest.mark.parametrize(
    "message",
    ["{not json", {"operation": "nope", "hub": "h"}, {"operation": "userExists", "hub": "h", "user": "u"},
     {"operation": "broadcast", "hub": "invalid hub", "payload": PAYLOAD}],
)
def test_invalid_messages_land_in_the_dead_letter_queue_verbatim(queue_system, message):
    text = message if isinstance(message, str) else json.dumps(message)
    send(queue_system, text)
    records = wait_until(lambda: [json.loads(r) for r in queue_system.records("-invalid")
                                  if json.loads(r)["original"] == text], timeout=20, what="dead letter")
    assert records[0]["reason"]
    assert records[0]["deadLetteredAt"]


def test_a_transient_failure_is_retried_then_succeeds(queue_system):
    upstream = queue_system.upstream
    upstream.add_rule(Rule("/api/v1/hubs/flaky", Answer(500), times=1))
    send(queue_system, {"operation": "broadcast", "hub": "flaky", "payload": PAYLOAD, "id": "flaky-1"})
    wait_until(lambda: len(upstream.requests_to("/api/v1/hubs/flaky")) >= 2, timeout=30, what="retry")
    wait_until(queue_system.drained, timeout=20, what="queue drained")
    assert len(upstream.requests_to("/api/v1/hubs/flaky")) == 2
    assert not [r for r in queue_system.records("-poison") if "flaky-1" in r]


def test_a_message_that_always_fails_ends_in_poison_after_max_dequeue_count(queue_system):
    upstream = queue_system.upstream
    upstream.add_rule(Rule("/api/v1/hubs/broken", Answer(500)))
    text = json.dumps({"operation": "broadcast", "hub": "broken", "payload": PAYLOAD, "id": "broken-1"})
    send(queue_system, text)
    wait_until(lambda: text in queue_system.records("-poison"), timeout=60, what="poison message")
    assert len(upstream.requests_to("/api/v1/hubs/broken")) == MAX_DEQUEUE_COUNT


def test_every_message_sent_is_delivered_dead_lettered_or_poisoned(queue_system):
    wait_until(queue_system.drained, timeout=30, what="queue drained")
    upstream = queue_system.upstream
    # Each delivered message had a hub of its own; "broken" only ever failed.
    hubs = {r.path.split("/")[4] for r in upstream.requests}
    delivered = len({hub for hub in hubs if hub.startswith(("ops", "flaky"))})
    dead = len(queue_system.records("-invalid"))
    poisoned = len(queue_system.records("-poison"))
    assert LEDGER["sent"] == delivered + dead + poisoned == len(CASES) + 4 + 1 + 1
