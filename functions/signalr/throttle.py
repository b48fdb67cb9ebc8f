"""Manners towards a throttling service: one shared pause per upstream endpoint.

When SignalR answers 429 or 503 it is telling every sender to slow down, not only the
request that got the answer. Each endpoint's transport therefore carries one ``ThrottleGate``:
a throttled answer closes it until ``Retry-After`` (or the retry backoff) has passed, and
every request through that transport, first tries and retries alike, waits at the gate
before it goes out. Twenty concurrent batch items that hit a 429 together thus wait once,
together, instead of each retrying on its own schedule (a retry storm).

A pause longer than the caller is willing to wait (``RetryPolicy.max_retry_after``) is
not waited out: requests fail fast with that ``Retry-After`` instead, without being sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ThrottleGate:
    """A shared "not before" time, moved later by throttled answers; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self.pauses = 0  # how many throttled answers closed (or extended) the gate

    def pause(self, seconds: float) -> None:
        """Close the gate for ``seconds`` from now (never shortens a longer pause already set)."""
        if seconds <= 0:
            return
        with self._lock:
            self._resume_at = max(self._resume_at, self._clock() + seconds)
            self.pauses += 1

    def remaining(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        return max(0.0, self._resume_at - self._clock())

    def wait(self) -> float:
        """Block until the gate is open; the seconds waited. Re-checks, as another thread may extend it."""
        waited = 0.0
        while (left := self.remaining()) > 0:
            self._sleep(left)
            waited += left
        return waited
