"""The batch runner alone: the concurrency bound, result order, and one item's failure kept to itself."""

from __future__ import annotations

import threading
import time

from functions.core.batch import read_batch
from functions.core.batch_runner import run_batch
from functions.core.errors import FacadeError, UpstreamUnavailable
from functions.core.facade import Outcome

PAYLOAD = {"target": "t", "arguments": []}


def batch_of(count: int, **options):
    items = [{"operation": "sendToUser", "hub": "chat", "user": f"u{i}", "payload": PAYLOAD} for i in range(count)]
    return read_batch({"commands": items, **options} if options else items, queue=False)


class InFlight:
    """A send that holds each item briefly and records how many were in flight at once."""

    def __init__(self, hold: float = 0.02) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.now = self.peak = 0
        self.sent: list[str] = []

    def __call__(self, command):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.hold)
        with self.lock:
            self.now -= 1
            self.sent.append(command.args["user"])
        if command.args["user"] == "u7":
            raise UpstreamUnavailable(retry_after=3)
        if command.args["user"] == "u8":
            raise RuntimeError("a bug in one item")
        return Outcome(command, 202)


def test_items_run_concurrently_up_to_the_bound_and_results_keep_the_batch_order():
    send = InFlight()
    results = run_batch(batch_of(40), send, parallelism=4)
    assert send.peak == 4
    assert sorted(send.sent) == sorted(f"u{i}" for i in range(40))  # each item sent exactly once
    assert [r.item.index for r in results] == list(range(40))
    assert [r.status for r in results] == [202] * 7 + [503, 500] + [202] * 31
    assert results[8].error.title == "Internal error"  # a bug in one item, reported in its place


def test_two_batches_at_once_share_one_bound():
    send = InFlight()
    threads = [threading.Thread(target=run_batch, args=(batch_of(20), send), kwargs={"parallelism": 3})
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert send.peak == 3
    assert len(send.sent) == 40


def test_refused_items_are_reported_in_place_and_never_sent():
    batch = batch_of(5)
    items = list(batch.items)
    items[2] = items[2].refused(FacadeError("refused"))
    send = InFlight(hold=0)
    results = run_batch(type(batch)(tuple(items)), send, parallelism=2)
    assert [r.status for r in results] == [202, 202, 500, 202, 202]
    assert "u2" not in send.sent
