"""The queue never sends one command twice: through Azurite (queues and the idempotency table), the local
host polling the commands queue, and the SignalR stand-in."""

from __future__ import annotations

import json
import time
import uuid

from support.recording_upstream import Answer, Rule
from support.waiting import wait_until

PAYLOAD = {"target": "newMessage", "arguments": ["hello"]}


def sent_to(system, hub: str) -> int:
    path = f"/api/v1/hubs/{hub}"
    return len([r for r in system.upstream.requests_to(path) if r.path == path])


def records_about(system, suffix: str, marker: str) -> list[dict]:
    return [json.loads(r) for r in system.records(suffix) if marker in r]


def test_two_messages_with_one_id_send_once_and_the_second_is_not_dead_lettered(queue_system):
    hub = f"dup{uuid.uuid4().hex[:10]}"
    command = json.dumps({"operation": "broadcast", "hub": hub, "payload": PAYLOAD, "id": f"order-{hub}"})
    queue_system.send(command)
    wait_until(lambda: sent_to(queue_system, hub) == 1, timeout=30, what="first delivery")
    queue_system.send(command)  # the producer resent it: at least once, as queues are
    wait_until(queue_system.drained, timeout=30, what="queue drained")
    time.sleep(1.5)  # a second delivery, if any, would have arrived by now (the host polls every second)
    assert sent_to(queue_system, hub) == 1
    assert not records_about(queue_system, "-invalid", hub)
    assert not records_about(queue_system, "-poison", hub)


def test_the_same_id_on_another_command_is_dead_lettered_not_sent(queue_system):
    hub = f"reuse{uuid.uuid4().hex[:10]}"
    queue_system.send(json.dumps({"operation": "broadcast", "hub": hub, "payload": PAYLOAD, "id": f"id-{hub}"}))
    wait_until(lambda: sent_to(queue_system, hub) == 1, timeout=30, what="first delivery")
    other = {"operation": "broadcast", "hub": hub, "payload": {"target": "other", "arguments": []}, "id": f"id-{hub}"}
    queue_system.send(json.dumps(other))
    [record] = wait_until(lambda: records_about(queue_system, "-invalid", f"id-{hub}"), timeout=30,
                          what="dead letter")
    assert record["reason"].startswith("idempotency-key-reused")
    assert sent_to(queue_system, hub) == 1


def test_a_transient_failure_releases_the_id_so_the_retry_delivers_it_once(queue_system):
    hub = f"flaky{uuid.uuid4().hex[:10]}"
    queue_system.upstream.add_rule(Rule(f"/api/v1/hubs/{hub}", Answer(500), times=1))
    queue_system.send(json.dumps({"operation": "broadcast", "hub": hub, "payload": PAYLOAD, "id": f"f-{hub}"}))
    wait_until(lambda: sent_to(queue_system, hub) >= 2, timeout=30, what="retry")
    wait_until(queue_system.drained, timeout=30, what="queue drained")
    assert sent_to(queue_system, hub) == 2  # the failed try and the retry: delivered once


def test_a_batch_resent_whole_delivers_each_item_once(queue_system):
    hub = f"batch{uuid.uuid4().hex[:10]}"
    items = [{"operation": "broadcast", "hub": hub, "payload": PAYLOAD, "id": f"{hub}-{i}"} for i in range(30)]
    queue_system.send(json.dumps(items))
    wait_until(lambda: sent_to(queue_system, hub) == 30, timeout=30, what="first batch")
    # The same batch again, and a second batch overlapping it by ten items plus five new ones.
    queue_system.send(json.dumps(items))
    more = items[20:] + [{"operation": "broadcast", "hub": hub, "payload": PAYLOAD, "id": f"{hub}-new-{i}"}
                         for i in range(5)]
    queue_system.send(json.dumps(more))
    wait_until(lambda: sent_to(queue_system, hub) >= 35, timeout=30, what="new items")
    wait_until(queue_system.drained, timeout=30, what="queue drained")
    time.sleep(1.5)
    assert sent_to(queue_system, hub) == 35
    assert not records_about(queue_system, "-invalid", hub)
