"""What the commands queue writes when a command is not simply executed: one record shape, one re-queue rule.

Dead-letter records (``<queue>-invalid``) and poison records (``<queue>-poison``) written by
the facade have one shape, whether they stand for a whole message or for one item of a batch::

    {"reason": "<slug>: <detail>", "errors": [{"field", "message"}...], "deadLetteredAt": "<ISO 8601>",
     "messageId": "...", "dequeueCount": n, "attempt": n,
     "original": "<the message text>"            a whole message ("originalBase64" when not UTF-8)
     "item": {...}, "index": n                   or one item of a batch, and its place in the original batch}

(The host itself also moves a message to the poison queue after ``maxDequeueCount`` tries: that
one is the message verbatim, not a record.)

The re-queue rule: what may succeed later goes back on the commands queue as ONE new message with
``attempt`` + 1 (a lone command naming the endpoints it still owes, or a batch's remainder), unless
``SIGNALR_BATCH_MAX_ATTEMPTS`` attempts are spent or it would not fit one queue message: then each
command or item gets a poison record.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from functions.core.errors import FacadeError

MAX_QUEUE_MESSAGE_BYTES = 64 * 1024  # Azure Storage queues' message size limit


@dataclass(frozen=True)
class Origin:
    """The queue message a record stands for (or whose item it stands for)."""

    message_id: str | None
    dequeue_count: int | None = None
    attempt: int = 1


def reason_of(error: FacadeError) -> str:
    return f"{error.slug}: {error.detail}"


def _field_errors(error: FacadeError | None) -> list[dict[str, str]]:
    return [{"field": e.field, "message": e.message} for e in getattr(error, "errors", [])]


def _record(reason: str, origin: Origin, error: FacadeError | None) -> dict[str, Any]:
    return {
        "reason": reason,
        "errors": _field_errors(error),
        "deadLetteredAt": datetime.now(UTC).isoformat(),
        "messageId": origin.message_id,
        "dequeueCount": origin.dequeue_count,
        "attempt": origin.attempt,
    }


def message_record(reason: str, origin: Origin, raw: bytes, error: FacadeError | None = None) -> str:
    """A record for a whole message, carrying its text verbatim (or its bytes, when not UTF-8)."""
    record = _record(reason, origin, error)
    try:
        record["original"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        record["originalBase64"] = base64.b64encode(raw).decode("ascii")
    return json.dumps(record)


def item_record(reason: str, origin: Origin, index: int, item: Any, error: FacadeError | None = None) -> str:
    """A record for one item of a batch: the item as the caller wrote it, and its index in the original batch."""
    return json.dumps({**_record(reason, origin, error), "index": index, "item": item})


@dataclass(frozen=True)
class Retry:
    """The re-queue rule's verdict: the new message, or why it goes to the poison queue instead."""

    message: str | None = None
    poison_reason: str | None = None


def plan_retry(body: dict[str, Any], attempt: int, max_attempts: int) -> Retry:
    """``body`` back on the queue as attempt + 1, while attempts remain and it fits one queue message."""
    if attempt >= max_attempts:
        return Retry(poison_reason=f"attempts-exhausted: still failing after {attempt} attempts")
    message = json.dumps({**body, "attempt": attempt + 1})
    if len(message.encode()) > MAX_QUEUE_MESSAGE_BYTES:
        return Retry(poison_reason="remainder-too-large: what is left would not fit one queue message")
    return Retry(message=message)
