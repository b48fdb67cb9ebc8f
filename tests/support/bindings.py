"""Binding values the Python worker would pass, for calling functions directly."""

from __future__ import annotations

from typing import Any

import azure.functions as func
from azure.functions.queue import QueueMessage


class OutCapture(func.Out):
    """What a function ``set`` on an output binding."""

    def __init__(self) -> None:
        self.value: Any = None

    def set(self, val: Any) -> None:
        self.value = val

    def get(self) -> Any:
        return self.value


def queue_message(body: str | bytes, *, dequeue_count: int = 1, id: str = "msg-1") -> QueueMessage:
    raw = body.encode() if isinstance(body, str) else body
    return QueueMessage(id=id, body=raw, pop_receipt="pr", dequeue_count=dequeue_count)


def one(written: list[str]) -> str:
    """The one record a single-command message writes to a list output binding."""
    assert isinstance(written, list), written
    assert len(written) == 1, written
    return written[0]
