"""A stop request set by SIGINT/SIGTERM, safe to set from a signal handler.

A handler must not call ``threading.Event.set()``: Python runs it in the main thread between
two bytecodes, possibly while that thread holds the same event's lock inside
``Event.wait()``, and the handler then waits for that lock forever (the process hangs on
SIGTERM; seen once in the test suite as a stack that did not stop in 30 s). Here the
handler only flips a bool, and waiting is sleeping in short steps.
"""

from __future__ import annotations

import signal
import time

STEP = 0.1  # seconds between looks at the flag while waiting


class StopFlag:
    """``set``/``is_set``/``wait`` like an Event, but lock-free."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        """True once set; False after ``timeout`` seconds if not."""
        deadline = time.monotonic() + timeout
        while not self._set:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(STEP, left))
        return True

    def on_signals(self, *signums: int) -> StopFlag:
        """Set on each of ``signums`` (default SIGINT and SIGTERM)."""
        for signum in signums or (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.set())
        return self
