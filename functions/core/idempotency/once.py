"""One keyed command under its record: reserve, run, then complete with the answer or release the key.

``work`` runs the command and returns what to give the caller and the ``Answer`` to record, or None
for the answer when the failure may pass (throttled, unavailable, timed out, a 5xx): the key is then
released, so a retry runs at once. A repeat of a recorded command gets the recorded answer and
nothing is sent; a repeat while the first still runs is ``IdempotencyKeyInUse`` (409); the key used
for another request is ``IdempotencyKeyReused`` (422). A store that cannot be reached raises
``IdempotencyUnavailable`` (503) before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from functions.core.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from functions.core.idempotency.keys import RecordKey
from functions.core.idempotency.records import Answer, Verdict
from functions.core.idempotency.store import IdempotencyStore

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Fresh(Generic[T]):
    """The command ran now: its own result."""

    result: T


@dataclass(frozen=True)
class Replayed:
    """The command ran before: the answer recorded for it then."""

    answer: Answer


def run_once(store: IdempotencyStore, key: RecordKey, work: Callable[[], tuple[T, Answer | None]],
             *, lease: float | None = None) -> Fresh[T] | Replayed:
    reservation = store.reserve(key, lease=lease)
    if reservation.verdict is Verdict.DONE:
        log.info("idempotent repeat answered from its record, nothing sent")
        return Replayed(reservation.answer or Answer(200))
    if reservation.verdict is Verdict.BUSY:
        raise IdempotencyKeyInUse("The first request with this idempotency key is still running; "
                                  "try again to get its answer", retry_after=reservation.retry_after)
    if reservation.verdict is Verdict.MISMATCH:
        raise IdempotencyKeyReused("This idempotency key was first used for another request (operation, "
                                   "route, query or body); use a new key for a new request")
    # Whatever escapes here (a bug) leaves the reservation in place: the command may have gone out,
    # so the key stays blocked until its lease ends rather than being freed for a resend at once.
    result, answer = work()
    if answer is None:
        store.release(reservation)
    else:
        store.complete(reservation, answer)
    return Fresh(result)
