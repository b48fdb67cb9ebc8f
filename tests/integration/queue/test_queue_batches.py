"""Batch messages through Azurite, the local host and the SignalR stand-in: every item ends
delivered, dead-lettered or poisoned exactly once, and a transient failure mid-batch never
makes the host re-run (and so resend) what already went out."""

from __future__ import annotations

import json

from support.queue_cases import PAYLOAD
from support.recording_upstream import Answer, Rule
from support.waiting import wait_until

MAX_ATTEMPTS = 3  # SIGNALR_BATCH_MAX_ATTEMPTS in conftest
LEDGER = {"sent": 0}


def send_to(hub: str, user: str) -> dict:
    return {"operation": "sendToUser", "hub": hub, "user": user, "payload": PAYLOAD}


def send_batch(system, items: list) -> None:
    system.send(json.dumps(items))
    LEDGER["sent"] += len(items)


def sent_to(upstream, hub: str) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in upstream.requests_to(f"/api/v1/hubs/{hub}/users/")]


def item_records(system, suffix: str) -> list[dict]:
    return [record for record in map(json.loads, system.records(suffix)) if "index" in record]


def test_a_transient_failure_mid_batch_requeues_only_the_rest_and_nothing_is_delivered_twice(queue_system):
    upstream = queue_system.upstream
    upstream.add_rule(Rule("/api/v1/hubs/mixed/users/m5", Answer(500), times=1))
    items = [send_to("mixed", f"m{i}") for i in range(10)]
    items.insert(3, {"operation": "sendToUser", "hub": "mixed", "payload": PAYLOAD})  # no user: dead-lettered
    send_batch(queue_system, items)
    wait_until(lambda: len(sent_to(upstream, "mixed")) == 11, timeout=30, what="every item and one retry")
    wait_until(queue_system.drained, timeout=20, what="queue drained")
    sent = sent_to(upstream, "mixed")
    assert sorted(sent) == sorted([f"m{i}" for i in range(10)] + ["m5"])  # m5: failed once, then delivered
    [record] = [r for r in item_records(queue_system, "-invalid") if r["item"].get("hub") == "mixed"]
    assert record["index"] == 3
    assert record["reason"].startswith("validation")
    assert record["attempt"] == 1


def test_items_that_keep_failing_are_poisoned_after_the_attempt_limit_with_their_index(queue_system):
    upstream = queue_system.upstream
    upstream.add_rule(Rule("/api/v1/hubs/stuck/users/s1", Answer(500)))
    send_batch(queue_system, [send_to("stuck", "s0"), send_to("stuck", "s1"), send_to("stuck", "s2")])
    [record] = wait_until(lambda: [r for r in item_records(queue_system, "-poison") if r["item"]["hub"] == "stuck"],
                          timeout=60, what="poison record")
    assert (record["index"], record["attempt"], record["item"]["user"]) == (1, MAX_ATTEMPTS, "s1")
    assert record["reason"].startswith("attempts-exhausted")
    assert sorted(sent_to(upstream, "stuck")) == ["s0", "s1", "s1", "s1", "s2"]  # one try per attempt


def test_every_item_sent_is_delivered_dead_lettered_or_poisoned_once(queue_system):
    wait_until(queue_system.drained, timeout=30, what="queue drained")
    upstream = queue_system.upstream
    # Delivered: each distinct user that got a request whose last answer was a success.
    failing = {"/api/v1/hubs/stuck/users/s1"}
    delivered = len({r.path for r in upstream.requests if r.path not in failing})
    dead = len(item_records(queue_system, "-invalid"))
    poisoned = len(item_records(queue_system, "-poison"))
    assert LEDGER["sent"] == delivered + dead + poisoned == 14
