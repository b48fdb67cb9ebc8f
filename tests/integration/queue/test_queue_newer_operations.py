"""The queueable 2024-12-01 operations through a real Azurite queue, the local host and the SignalR
stand-in: each reaches SignalR exactly once; the bad ones are dead-lettered verbatim."""

from __future__ import annotations

import json

import pytest

from support.queue_cases import DATED_CASES, DATED_DEAD_LETTERS
from support.recording_upstream import Answer, Rule
from support.waiting import wait_until


def test_each_queueable_newer_operation_reaches_signalr_exactly_once(queue_system):
    upstream = queue_system.upstream
    prefixes = []
    for index, (message, _method, path, _query, status) in enumerate(DATED_CASES):
        prefix = path.replace("/api/hubs/chat", f"/api/hubs/new{index}", 1)
        prefixes.append(prefix)
        upstream.add_rule(Rule(prefix, Answer(status)))
        queue_system.send(json.dumps({**message, "hub": f"new{index}"}))
    for prefix, (_message, method, _path, query, _status) in zip(prefixes, DATED_CASES, strict=True):
        got = wait_until(lambda p=prefix: [r for r in upstream.requests_to(p) if r.path == p], timeout=20,
                         what=f"request to {prefix}")
        assert [(r.method, r.query) for r in got] == [(method, query)]
    wait_until(queue_system.drained, timeout=20, what="queue drained")
    execute = upstream.requests_to(prefixes[-1])[0]
    assert execute.json()[1] == {"type": "CloseConnection", "reason": "bye"}
    assert queue_system.records("-invalid") == []
    assert queue_system.records("-poison") == []


@pytest.mark.parametrize(("message", "reason"), DATED_DEAD_LETTERS,
                         ids=[f"{c[0]['operation']}-{i}" for i, c in enumerate(DATED_DEAD_LETTERS)])
def test_bad_newer_messages_land_in_the_dead_letter_queue_verbatim(queue_system, message, reason):
    text = json.dumps(message)
    queue_system.send(text)
    records = wait_until(lambda: [json.loads(r) for r in queue_system.records("-invalid")
                                  if json.loads(r)["original"] == text], timeout=20, what="dead letter")
    assert records[0]["reason"].startswith(reason)


def test_closing_a_user_that_signalr_refuses_is_dead_lettered(queue_system):
    queue_system.upstream.add_rule(Rule("/api/hubs/refused/", Answer(400)))
    text = json.dumps({"operation": "closeUserConnections", "hub": "refused", "user": "u"})
    queue_system.send(text)
    records = wait_until(lambda: [json.loads(r) for r in queue_system.records("-invalid")
                                  if json.loads(r)["original"] == text], timeout=20, what="dead letter")
    assert records[0]["reason"].startswith("upstream-rejected")
