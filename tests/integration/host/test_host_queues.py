from __future__ import annotations

import base64
import json
import time

from .helpers import raw_request


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_base64_message_is_decoded_processed_and_deleted(queue_host, queues):
    queue_host()
    queues.send(queues.work, b64('{"hello": "wörld"}'))
    out = json.loads(base64.b64decode(queues.wait_for(f"{queues.work}-out", 1)[0]))
    assert out["text"] == '{"hello": "wörld"}'
    assert out["dequeue_count"] == 1
    assert out["kind"] == "sync"
    assert queues.length(queues.work) == 0


def test_encoding_none_passes_the_text_through_both_ways(queue_host, queues):
    queue_host(messageEncoding="none")
    queues.send(queues.awork, "plain text, not base64 ✓")
    out = json.loads(queues.wait_for(f"{queues.awork}-out", 1)[0])
    assert (out["text"], out["kind"]) == ("plain text, not base64 ✓", "async")


def test_a_failure_is_retried_and_the_dequeue_count_grows(queue_host, queues):
    queue_host()
    queues.send(queues.work, b64('{"fail_until": 2}'))
    out = json.loads(base64.b64decode(queues.wait_for(f"{queues.work}-out", 1)[0]))
    assert out["dequeue_count"] == 3


def test_an_always_failing_message_lands_in_the_poison_queue_with_its_original_text(queue_host, queues):
    queue_host(maxDequeueCount=2)
    original = b64('{"fail_until": 99, "n": 1}')
    queues.send(queues.work, original)
    assert queues.wait_for(f"{queues.work}-poison", 1) == [original]
    assert queues.length(queues.work) == 0
    assert queues.length(f"{queues.work}-out") == 0


def test_a_message_that_is_not_base64_goes_to_poison_without_running(queue_host, queues):
    queue_host()
    queues.send(queues.work, "{not base64!}")
    assert queues.wait_for(f"{queues.work}-poison", 1) == ["{not base64!}"]
    assert queues.length(f"{queues.work}-out") == 0


def test_visibility_timeout_delays_the_retry(queue_host, queues):
    queue_host(visibilityTimeout="00:00:02")
    started = time.monotonic()
    queues.send(queues.work, b64('{"fail_until": 1}'))
    out = json.loads(base64.b64decode(queues.wait_for(f"{queues.work}-out", 1)[0]))
    assert out["dequeue_count"] == 2
    assert time.monotonic() - started >= 2.0


def test_no_more_than_batch_size_plus_new_batch_threshold_run_at_once(queue_host, queues):
    host = queue_host(batchSize=3, newBatchThreshold=1, messageEncoding="none")
    for n in range(12):
        queues.send(queues.awork, json.dumps({"sleep": 0.4, "n": n}))
    outs = [json.loads(m) for m in queues.wait_for(f"{queues.awork}-out", 12, timeout=30)]
    peak = max(o["concurrent"] for o in outs)
    assert 3 <= peak <= 4
    assert host.listeners["awork"].max_in_flight <= 4


def test_an_http_function_writes_a_list_to_its_queue_output(queue_host, queues):
    host = queue_host()
    response = raw_request(host, "POST", "/api/enqueue", body=b"first\nsecond\n")
    assert response.status == 202
    sent = queues.wait_for(f"{queues.work}-http", 2)
    assert sorted(base64.b64decode(m).decode() for m in sent) == ["first", "second"]


def test_setting_expressions_name_the_queues(queue_host, queues):
    host = queue_host()
    assert host.listeners["work"].queue_name == queues.work
    assert host.listeners["awork"].queue_name == queues.awork
    assert host.errors == {}


def test_an_unresolvable_queue_setting_puts_only_that_function_in_error(queue_host, queues, monkeypatch):
    monkeypatch.delenv("AWORK_QUEUE")
    host = queue_host()
    assert "awork" in host.errors
    assert "AWORK_QUEUE" in host.errors["awork"]
    assert "work" in host.listeners
    assert raw_request(host, "GET", "/api/items/1").status == 200
