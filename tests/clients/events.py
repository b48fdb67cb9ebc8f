"""A thread-safe list of client events with bounded waits (shared by the client helpers).

Events are dicts: ``{"event": "connected" | "message" | "closed" | "error", ...}``; a
message has ``target`` and ``arguments``, a close has ``error``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]


class EventLog:
    def __init__(self) -> None:
        self._events: list[Event] = []
        self._changed = threading.Condition()

    def append(self, event: Event) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def all(self) -> list[Event]:
        with self._changed:
            return list(self._events)

    def messages(self) -> list[Event]:
        return [e for e in self.all() if e["event"] == "message"]

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """The first event (already seen or coming) matching predicate; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self._events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching event within {timeout}s; saw {self._events!r}")
                self._changed.wait(remaining)

    def wait_messages(self, count: int, timeout: float = 10.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                messages = [e for e in self._events if e["event"] == "message"]
                if len(messages) >= count:
                    return messages
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(messages)} of {count} messages within {timeout}s")
                self._changed.wait(remaining)

    def wait_event(self, name: str, timeout: float = 10.0) -> Event:
        return self.wait_for(lambda e: e["event"] == name, timeout)
