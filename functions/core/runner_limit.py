"""How many batch items a worker sends at once: up to ``SIGNALR_BATCH_PARALLELISM``, fewer
while the worker's interpreter is the bottleneck.

Python runs one thread at a time (the interpreter lock). While the service is slow to answer,
sixteen items in flight keep sixteen requests waiting on the network at once, which is what
makes a batch fast. While the service answers quickly, the worker's own CPU is what limits
the rate, and sixteen threads then mostly wait for the interpreter lock: each request costs
about a third more CPU (`python -m bench --only batch_queue`, SIGNALR_BATCH_PARALLELISM 3
against 16), for no gain in speed.

So the limit follows the process's CPU use, measured over short windows: above ``BUSY``
(nearly all of one core: the interpreter is saturated) it halves, down to ``floor``; below
``IDLE`` with runners waiting for a slot, it grows by one, up to the setting. It starts at the
setting, so a slow service never waits for a ramp up. The window is checked when an item
finishes, so an idle worker does no work for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WINDOW_SECONDS = 0.025
BUSY = 0.95  # share of one core: above it more threads only wait for the interpreter lock
IDLE = 0.85  # below it, with runners waiting, the worker has CPU to spare for one more
FLOOR = 2  # items in flight even when CPU is short: one item's round trip overlaps another's work


class RunnerLimit:
    """A process-wide count of runners sending items, its limit adapted to CPU use; thread-safe.

    A runner holds its slot from item to item (a thread that keeps going costs less than waking
    another) and asks ``over_limit()`` after each: when the limit has shrunk below the runners
    at work, it gives its slot up and waits for one.
    """

    def __init__(self, ceiling: int, floor: int = FLOOR, *, clock: Callable[[], float] = time.perf_counter,
                 cpu: Callable[[], float] = time.process_time) -> None:
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self.limit = ceiling
        self.active = 0
        self._waiting = 0
        self._clock = clock
        self._cpu = cpu
        self._condition = threading.Condition(threading.Lock())
        self._window_started = clock()
        self._window_cpu = cpu()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the block: wait for one while as many runners as the limit are at work."""
        self._acquire()
        try:
            yield
        finally:
            self._release()

    def over_limit(self) -> bool:
        """After an item: adapt the limit if a window has passed; True when this runner should step back."""
        if self._clock() - self._window_started >= WINDOW_SECONDS:
            with self._condition:
                self._adapt()
        return self.active > self.limit

    def step_back(self) -> None:
        """Give the slot up and wait for one again (the caller holds a slot)."""
        self._release()
        self._acquire()

    def _acquire(self) -> None:
        with self._condition:
            if self.active >= self.limit:
                self._waiting += 1
                try:
                    self._condition.wait_for(lambda: self.active < self.limit)
                finally:
                    self._waiting -= 1
            self.active += 1

    def _release(self) -> None:
        with self._condition:
            self.active -= 1
            self._condition.notify()

    def _adapt(self) -> None:
        now = self._clock()
        elapsed = now - self._window_started
        if elapsed < WINDOW_SECONDS:
            return  # another runner adapted it first
        cpu = self._cpu()
        used = (cpu - self._window_cpu) / elapsed
        self._window_started, self._window_cpu = now, cpu
        if used > BUSY and self.limit > self.floor:
            self.limit = max(self.floor, self.limit // 2)
        elif used < IDLE and self._waiting and self.limit < self.ceiling:
            self.limit += 1
            self._condition.notify_all()
