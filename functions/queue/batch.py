"""A batch carried by one queue message: every item accounted for, none sent twice.

The message is never re-run as a whole once an item may have gone out (that would resend
what was delivered), so this path never raises after it starts sending. Each item ends in
exactly one place:

- delivered: SignalR accepted it (or answered a 404 the catalog calls done);
- dead-lettered: it can never succeed (invalid, hub not allowed, refused by SignalR, a 404
  the catalog calls final): one record per item on ``<queue>-invalid`` with the original
  item, its index in the original batch and the reason;
- re-queued: it failed in a way that may pass later (throttled, unavailable, timed out,
  5xx, or left unsent behind such a failure in an ordered batch): all of these go back on
  the commands queue as ONE new message with ``attempt`` + 1 and their ``indexes``;
- poisoned: what would be re-queued after ``SIGNALR_BATCH_MAX_ATTEMPTS`` attempts goes to
  ``<queue>-poison`` instead, one record per item.

So for every batch: items = delivered + dead-lettered + re-queued + poisoned (logged as
the count check), and over all attempts: items sent = delivered + dead-lettered + poisoned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from functions.core.batch import Batch
from functions.core.batch_runner import ItemResult, run_batch
from functions.core.errors import FacadeError, PermissionDenied, ValidationError
from functions.core.facade import Facade
from functions.core.log_text import log_safe
from functions.queue.records import Origin, item_record, plan_retry, reason_of
from functions.signalr.router import pending_endpoints

log = logging.getLogger(__name__)

@dataclass
class QueuedBatchResult:
    """What the trigger writes to its output bindings, and the counts it logs."""

    delivered: int = 0
    dead_letters: list[str] = field(default_factory=list)
    requeue: str | None = None
    requeued: int = 0
    poison: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"delivered": self.delivered, "deadLettered": len(self.dead_letters),
                "requeued": self.requeued, "poisoned": len(self.poison)}


def _record(result: ItemResult, reason: str, origin: Origin) -> str:
    return item_record(reason, origin, result.item.index, result.item.fields, result.problem)


def run_queued_batch(facade: Facade, batch: Batch, message_id: str | None) -> QueuedBatchResult:
    """Run a batch message's items; never raises once sending starts (a re-run would resend)."""
    facade.require_sound_settings()  # raises before anything is sent: the host retries the message
    batch = _admit(facade, batch)
    results = run_batch(batch, facade.forward_queued, parallelism=facade.settings.batch_parallelism)
    outcome = QueuedBatchResult()
    origin = Origin(message_id, attempt=batch.attempt)
    retry: list[tuple[ItemResult, FacadeError]] = []
    for result in results:
        done = result.result
        if isinstance(done, FacadeError) and done.retryable:
            retry.append((result, done))
        elif isinstance(done, FacadeError):
            outcome.dead_letters.append(_record(result, reason_of(done), origin))
        elif done.dead_letter_on_queue and done.not_found is not None:
            outcome.dead_letters.append(_record(result, f"not-found: {done.not_found.detail}", origin))
        else:
            outcome.delivered += 1
    if retry:
        _retry_later(retry, batch, origin, facade.settings.batch_max_attempts, outcome)
    total = len(batch.items)
    counted = outcome.delivered + len(outcome.dead_letters) + outcome.requeued + len(outcome.poison)
    if counted != total:  # cannot happen by construction; said loudly if it ever does
        log.error("queue batch count check failed: message_id=%s items=%s counted=%s", log_safe(message_id), total,
                  counted)
    return outcome


def _admit(facade: Facade, batch: Batch) -> Batch:
    """The queue is the trust boundary: each item passes the checks a single queued command does."""
    items = []
    for item in batch.items:
        if item.command is not None:
            try:
                facade.admit_queued(item.command)
            except (PermissionDenied, ValidationError) as error:  # not allowed, or names no configured endpoint
                item = item.refused(error)
        items.append(item)
    return replace(batch, items=tuple(items))


def _owed(result: ItemResult, error: FacadeError) -> dict:
    """An item to re-queue: with several endpoints, named only where it is still owed."""
    owed = pending_endpoints(error)
    return {**result.item.fields, "endpoints": list(owed)} if owed else result.item.fields


def _retry_later(retry: list[tuple[ItemResult, FacadeError]], batch: Batch, origin: Origin, max_attempts: int,
                 outcome: QueuedBatchResult) -> None:
    remainder = {"commands": [_owed(r, e) for r, e in retry], "indexes": [r.item.index for r, _ in retry],
                 "ordered": batch.ordered}
    plan = plan_retry(remainder, batch.attempt, max_attempts)
    if plan.message is not None:
        outcome.requeue, outcome.requeued = plan.message, len(retry)
        return
    for result, error in retry:
        outcome.poison.append(_record(result, f"{plan.poison_reason} (last: {reason_of(error)})", origin))
