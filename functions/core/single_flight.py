"""A result that at most one thread computes at a time, reused for a while.

``/api/health`` is anonymous: without this, every concurrent probe on a cold cache would
make its own upstream call and hold a worker thread while it waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """``get()`` returns a result at most ``ttl`` seconds old, computing it in one thread at a time.

    While one thread computes, the others do not wait: they get the last result, or
    ``pending`` when there has never been one.
    """

    def __init__(self, compute: Callable[[], T], ttl: float, pending: T) -> None:
        self._compute = compute
        self._ttl = ttl
        self._pending = pending
        self._lock = threading.Lock()
        self._last: tuple[float, T] | None = None
        self._running = False

    def get(self) -> T:
        with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < self._ttl:
                return self._last[1]
            if self._running:
                return self._last[1] if self._last is not None else self._pending
            self._running = True
        try:
            result = self._compute()
        finally:
            with self._lock:
                self._running = False
        with self._lock:
            self._last = (time.monotonic(), result)
        return result
