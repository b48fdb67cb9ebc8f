"""A per-caller budget of commands (``SIGNALR_CALLER_LIMIT``): a token bucket per caller, per worker.

One authenticated caller could otherwise turn one 1,000-item batch into thousands of upstream
calls in well under a second, and repeat it. Each caller (tenant + ``oid``, or the client app's
``azp`` when there is no ``oid``) has a bucket of ``burst`` commands that refills at ``rate`` per
second; a command takes one, a batch one per item and is refused whole when they do not all fit
(a partial batch would leave the caller guessing which items ran). Refused: 429 with
``Retry-After``, the seconds until the bucket holds enough. Nothing is sent upstream.

Defaults: ``rate`` 100 commands per second; ``burst`` ten seconds of it and never less than one
full batch (1,000 items), so a batch of the maximum size always fits a full bucket. ``0`` turns
the limit off.

The buckets live in this worker's memory: with N workers (instances x processes) a caller may get
up to N times the rate. An instance-wide limit needs a shared store; a deployment that needs a
global one puts a rate limit in front (Azure API Management ``rate-limit-by-key`` keyed on the
token's ``oid``, or Front Door's WAF rate-limit rules). At most ``MAX_CALLERS`` buckets are kept,
the least recently used dropped first (a dropped caller starts again with a full bucket).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from functions.core.batch import MAX_BATCH_ITEMS

DEFAULT_RATE = 100  # commands per second per caller
BURST_SECONDS = 10
MAX_CALLERS = 10_000


def burst_for(rate: int) -> int:
    """A full bucket: ``BURST_SECONDS`` of the rate, and at least one batch of the maximum size."""
    return max(rate * BURST_SECONDS, MAX_BATCH_ITEMS)


class CallerLimit:
    """Token buckets by caller key; ``take`` answers 0 when admitted, else the seconds to wait."""

    def __init__(self, rate: float, burst: float | None = None, *, clock: Callable[[], float] = time.monotonic,
                 max_callers: int = MAX_CALLERS) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive (0 means no limit: build no CallerLimit)")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else burst_for(int(rate)))
        self._clock = clock
        self._max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str, count: int = 1) -> int:
        """Take ``count`` tokens from ``key``'s bucket, all or none: 0 if taken, else whole seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if count <= tokens:
                tokens -= count
                wait = 0
            else:  # more than a full bucket can never fit: say when a full one would, the caller must split
                wait = max(1, math.ceil((min(count, self.burst) - tokens) / self.rate))
            self._buckets[key] = (tokens, now)  # most recently used last
            while len(self._buckets) > self._max_callers:
                self._buckets.popitem(last=False)
        return wait
