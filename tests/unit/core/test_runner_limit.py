"""The runner limit: fewer batch items in flight while the worker's CPU is saturated, back up when it is not."""

from __future__ import annotations

import threading
import time

import pytest

from functions.core import batch_runner
from functions.core.batch import read_batch
from functions.core.batch_runner import run_batch
from functions.core.facade import Outcome
from functions.core.runner_limit import BUSY, IDLE, WINDOW_SECONDS, RunnerLimit


class Clocks:
    """Wall and CPU clocks the test moves by hand."""

    def __init__(self) -> None:
        self.wall = self.cpu = 100.0

    def window(self, cpu_share: float) -> None:
        """One window passes in which the process used ``cpu_share`` of a core."""
        self.wall += WINDOW_SECONDS
        self.cpu += WINDOW_SECONDS * cpu_share


def limit_with(clocks: Clocks, ceiling: int = 16, floor: int = 2) -> RunnerLimit:
    return RunnerLimit(ceiling, floor, clock=lambda: clocks.wall, cpu=lambda: clocks.cpu)


def test_it_starts_at_the_setting_and_halves_down_to_the_floor_while_the_cpu_is_saturated():
    clocks = Clocks()
    limit = limit_with(clocks)
    assert limit.limit == 16
    seen = []
    with limit.slot():
        for _ in range(5):
            clocks.window(BUSY + 0.04)
            limit.over_limit()
            seen.append(limit.limit)
    assert seen == [8, 4, 2, 2, 2]


def test_a_window_not_yet_over_changes_nothing():
    clocks = Clocks()
    limit = limit_with(clocks)
    with limit.slot():
        clocks.wall += WINDOW_SECONDS / 2
        clocks.cpu += WINDOW_SECONDS / 2
        limit.over_limit()
    assert limit.limit == 16


def test_it_grows_one_at_a_time_with_cpu_to_spare_only_while_runners_wait_for_a_slot():
    clocks = Clocks()
    limit = limit_with(clocks, ceiling=4, floor=1)
    limit.limit = 1
    with limit.slot():
        clocks.window(IDLE - 0.2)
        limit.over_limit()
        assert limit.limit == 1  # nobody waits: no reason to grow
        held = []  # the waiter's slot, kept: a dropped context manager would give it back

        def take_a_slot() -> None:
            slot = limit.slot()
            slot.__enter__()
            held.append(slot)

        waiter = threading.Thread(target=take_a_slot)
        waiter.start()
        deadline = time.monotonic() + 5
        while limit._waiting == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        clocks.window(IDLE - 0.2)
        limit.over_limit()
        waiter.join(5)
        assert not waiter.is_alive()  # woken by the growth
        assert (limit.limit, limit.active) == (2, 2)
        for _ in range(5):
            clocks.window(BUSY - 0.05)  # between IDLE and BUSY: held where it is
            limit.over_limit()
        assert limit.limit == 2


def test_a_runner_over_a_shrunken_limit_is_told_to_step_back():
    clocks = Clocks()
    limit = limit_with(clocks, ceiling=4, floor=1)
    entered = [limit.slot() for _ in range(4)]
    for slot in entered:
        slot.__enter__()
    clocks.window(1.0)
    assert limit.over_limit() is True  # 4 at work, the limit is now 2
    for slot in entered[:2]:
        slot.__exit__(None, None, None)
    assert limit.over_limit() is False


@pytest.fixture
def fresh_workers():
    saved = dict(batch_runner._workers)
    batch_runner._workers.clear()
    yield
    batch_runner._workers.clear()
    batch_runner._workers.update(saved)


def batch_of(count: int):
    items = [{"operation": "sendToUser", "hub": "chat", "user": f"u{i}", "payload": {"target": "t", "arguments": []}}
             for i in range(count)]
    return read_batch(items, queue=False)


def test_items_that_only_burn_cpu_run_on_fewer_runners_and_all_are_sent_once(fresh_workers):
    sent: list[str] = []
    lock = threading.Lock()

    def busy(command):
        until = time.thread_time() + 0.002  # CPU work, no waiting: the interpreter is the bottleneck
        while time.thread_time() < until:
            pass
        with lock:
            sent.append(command.args["user"])
            limits.append(batch_runner.workers(8).limit.limit)
        return Outcome(command, 202)

    limits: list[int] = []
    results = run_batch(batch_of(300), busy, parallelism=8)
    assert [r.status for r in results] == [202] * 300
    assert sorted(sent) == sorted(f"u{i}" for i in range(300))
    assert min(limits) < 8


def test_items_that_wait_on_the_network_keep_every_runner(fresh_workers):
    in_flight = peak = 0
    lock = threading.Lock()

    def waits(command):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)  # a slow service: CPU is idle
        with lock:
            in_flight -= 1
        return Outcome(command, 202)

    results = run_batch(batch_of(64), waits, parallelism=8)
    assert [r.status for r in results] == [202] * 64
    assert peak == 8
    assert batch_runner.workers(8).limit.limit == 8
