"""The commands queue never sends one command twice: a command's ``id`` (without one, the queue message's
id) is its idempotency key, scoped to the queue (and the command's tenant, when it names one).

Delivery from a Storage queue is at least once: a message comes back when its worker dies or runs
past the visibility timeout, and producers resend. Before sending, the key is reserved
(functions/core/idempotency); a key already answered is a duplicate: logged, not sent, not
dead-lettered. The same id on another command is refused for good (dead-lettered as
``idempotency-key-reused``); a key whose first delivery is still running is retried later. A
failure that may pass releases the key before the command is retried or re-queued. With the store
unreachable nothing is sent: the message is retried (``idempotency-unavailable``).

A batch's items with ids are reserved together, in Table transactions (one per partition and 100
items), and completed together after the run; items without an id are sent as before, unguarded
(the message id names the batch, not the item).

The guard is on whenever ``SIGNALR_COMMANDS_STORAGE`` is set in any form, which the queue trigger
cannot run without; only a direct call of the function (a unit test) runs without it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from functions.core.batch import Batch, BatchItem
from functions.core.batch_runner import ItemResult
from functions.core.command import Command
from functions.core.errors import FacadeError, IdempotencyKeyInUse, IdempotencyKeyReused
from functions.core.facade import Facade, Outcome
from functions.core.idempotency.keys import RecordKey, fingerprint, queue_scope
from functions.core.idempotency.records import BATCH_LEASE_SECONDS, Answer, Reservation, Verdict
from functions.core.queued import RETRY_FIELDS

IN_USE = "The first delivery of this command id is still running; it is retried later"
REUSED = "This command id was first used for another command; give each command its own id"


def guarded(facade: Facade) -> bool:
    return facade.settings.idempotency.named


def record_key(facade: Facade, command: Command, fields: Any, message_id: str | None) -> RecordKey | None:
    """The command's record: keyed by its id, else by the message id (None when it has neither)."""
    key = command.correlation_id or message_id
    if not key:
        return None
    same = {k: v for k, v in fields.items() if k not in RETRY_FIELDS} if isinstance(fields, dict) else fields
    return RecordKey(queue_scope(facade.settings.commands_queue, command.tenant_id), key, fingerprint(same))


def run_once(facade: Facade, command: Command, text: str, message_id: str | None) -> Outcome | None:
    """A lone queued command under its record; None when it is a duplicate (nothing sent)."""
    key = record_key(facade, command, json.loads(text), message_id) if guarded(facade) else None
    if key is None:
        return facade.run_queued(command)
    reservation = facade.idempotency.reserve(key)
    if reservation.verdict is Verdict.DONE:
        return None
    if reservation.verdict is Verdict.BUSY:
        raise IdempotencyKeyInUse(IN_USE)
    if reservation.verdict is Verdict.MISMATCH:
        raise IdempotencyKeyReused(REUSED)
    try:
        outcome = facade.run_queued(command)
    except FacadeError as error:
        if error.retryable:
            facade.idempotency.release(reservation)
        else:
            facade.idempotency.complete(reservation, Answer(error.status))
        raise
    facade.idempotency.complete(reservation, Answer(outcome.status))
    return outcome


@dataclass
class Reserved:
    """A batch after its items' records were reserved: what to run, and what was already done."""

    batch: Batch
    reservations: dict[int, Reservation]  # by item index: the records this run holds
    duplicates: int = 0


def reserve_items(facade: Facade, batch: Batch, message_id: str | None) -> Reserved:
    """Reserve the records of the items with ids (raises IdempotencyUnavailable before anything is sent)."""
    keyed: list[tuple[int, RecordKey]] = []
    for position, item in enumerate(batch.items if guarded(facade) else ()):
        if item.command is not None and item.command.correlation_id:
            key = record_key(facade, item.command, item.fields, message_id)
            if key is not None:
                keyed.append((position, key))
    if not keyed:
        return Reserved(batch, {})
    reservations = facade.idempotency.reserve_many([key for _, key in keyed], lease=BATCH_LEASE_SECONDS)
    verdicts = {position: reservation for (position, _), reservation in zip(keyed, reservations, strict=True)}
    items: list[BatchItem] = []
    held: dict[int, Reservation] = {}
    duplicates = 0
    for position, item in enumerate(batch.items):
        reservation = verdicts.get(position)
        if reservation is None:
            items.append(item)
        elif reservation.verdict is Verdict.DONE:
            duplicates += 1  # sent before: not again, and not dead-lettered
        elif reservation.verdict is Verdict.BUSY:
            items.append(item.refused(IdempotencyKeyInUse(IN_USE)))
        elif reservation.verdict is Verdict.MISMATCH:
            items.append(item.refused(IdempotencyKeyReused(REUSED)))
        else:
            held[item.index] = reservation
            items.append(item)
    return Reserved(Batch(tuple(items), batch.ordered, batch.attempt), held, duplicates)


def settle_items(facade: Facade, reserved: Reserved, results: list[ItemResult]) -> None:
    """Record what each reserved item came to; release the ones that will be tried again (before re-queueing)."""
    done: list[tuple[Reservation, Answer]] = []
    release: list[Reservation] = []
    for result in results:
        reservation = reserved.reservations.get(result.item.index)
        if reservation is None:
            continue
        if result.retryable:
            release.append(reservation)
        else:
            done.append((reservation, Answer(result.status)))
    if release:
        facade.idempotency.release_many(release)
    if done:
        facade.idempotency.complete_many(done)
