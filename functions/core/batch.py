"""The batch format, shared by ``POST /api/v1/batch`` and the commands queue.

A batch is a JSON array of the command objects the queue takes one per message (same
fields, same validation: ``queue_commands.command_from_fields``), or an object that wraps
that array with options::

    [{"operation": "sendToUser", "hub": "chat", "user": "u1", "payload": {...}}, ...]
    {"commands": [...], "ordered": true}

At most ``MAX_BATCH_ITEMS`` items and ``MAX_BODY_BYTES`` (1 MB) in all; more is refused
whole (413) before any item is looked at. Each item is then validated on its own: an
invalid item is reported (HTTP) or dead-lettered (queue) with its index and never sent,
and the valid ones run. The facade writes two more fields when it re-queues what is left
of a queued batch after a transient failure: ``attempt`` (1 for a new batch) and
``indexes`` (each remaining item's position in the original batch, for its records).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from functions.core.command import Command
from functions.core.errors import FacadeError, FieldError, PayloadTooLarge, ValidationError
from functions.core.queued import command_from_fields

MAX_BATCH_ITEMS = 1000
BATCH_FIELDS = frozenset({"commands", "ordered"})
QUEUE_BATCH_FIELDS = BATCH_FIELDS | {"attempt", "indexes"}


@dataclass(frozen=True)
class BatchItem:
    """One item: where it stood in the original batch, what was sent, and what it came to so far."""

    index: int
    fields: Any  # the item as the caller wrote it (dead-letter records and re-queues carry it verbatim)
    command: Command | None = None
    error: FacadeError | None = None  # set when the item is refused before anything is sent

    def refused(self, error: FacadeError) -> BatchItem:
        return replace(self, command=None, error=error)


@dataclass(frozen=True)
class Batch:
    items: tuple[BatchItem, ...]
    ordered: bool = False
    attempt: int = 1


def is_batch(data: Any) -> bool:
    """Whether a decoded queue message is a batch rather than one command object.

    A command names its ``operation`` (``executeCommands`` has a ``commands`` field of its own).
    """
    return isinstance(data, list) or (isinstance(data, dict) and "commands" in data and "operation" not in data)


def _envelope(data: Any, allowed: frozenset[str]) -> tuple[list[Any], bool, int, list[int] | None]:
    if isinstance(data, list):
        return data, False, 1, None
    if not isinstance(data, dict):
        raise ValidationError([FieldError("body", "must be a JSON array of commands, or {\"commands\": [...]}")])
    errors = [FieldError(key[:64], "is not a field of a batch") for key in sorted(data) if key not in allowed]
    commands, ordered = data.get("commands"), data.get("ordered", False)
    attempt, indexes = data.get("attempt", 1), data.get("indexes")
    if not isinstance(commands, list):
        errors.append(FieldError("commands", "must be a JSON array of commands"))
    if not isinstance(ordered, bool):
        errors.append(FieldError("ordered", "must be true or false"))
    if type(attempt) is not int or attempt < 1:
        errors.append(FieldError("attempt", "must be a positive integer"))
    if indexes is not None and not (
        isinstance(indexes, list) and isinstance(commands, list) and len(indexes) == len(commands)
        and all(type(i) is int and 0 <= i < MAX_BATCH_ITEMS for i in indexes)
    ):
        errors.append(FieldError("indexes", "must give one position (0-999) per command"))
    if errors or not isinstance(commands, list):  # (commands not a list is always among the errors)
        raise ValidationError(errors)
    return commands, bool(ordered), int(attempt), indexes


def read_batch(data: Any, *, queue: bool) -> Batch:
    """Check the envelope (raise on it: nothing runs), then validate every item on its own.

    ``queue``: the batch came by queue, so it may carry ``attempt``/``indexes`` and may not
    hold existence checks (a queue has no reply channel).
    """
    commands, ordered, attempt, indexes = _envelope(data, QUEUE_BATCH_FIELDS if queue else BATCH_FIELDS)
    if not commands:
        raise ValidationError([FieldError("commands", "must hold at least one command")])
    if len(commands) > MAX_BATCH_ITEMS:
        raise PayloadTooLarge(f"The batch has {len(commands)} items; the limit is {MAX_BATCH_ITEMS}")
    items = []
    for position, fields in enumerate(commands):
        index = indexes[position] if indexes is not None else position
        try:
            if not isinstance(fields, dict):
                raise ValidationError([FieldError("command", "must be a JSON object")])
            if not queue and "tenant" in fields:
                # Over HTTP the caller's token says which tenant it acts for.
                raise ValidationError([FieldError("tenant", "is taken from the access token over HTTP")])
            items.append(BatchItem(index, fields, command_from_fields(fields, existence_checks=not queue)))
        except FacadeError as error:
            items.append(BatchItem(index, fields, error=error))
    return Batch(tuple(items), ordered, attempt)
