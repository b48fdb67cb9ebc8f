"""Run a batch's items concurrently, with a bound, or one at a time in order.

Concurrency: items go to one thread pool per worker process whose size is the
``SIGNALR_BATCH_PARALLELISM`` setting, so concurrent batches share the bound instead of
multiplying it. Fewer send at once while the worker's CPU is the bottleneck
(functions.core.runner_limit: more threads would only wait for the interpreter lock). The
requests themselves share the SignalR client's connection pool and its throttle gate
(functions.signalr.throttle), so a 429/503 slows every item, not only its own.
Per-item retries are the transport's (functions.signalr.transport): a send is never
repeated after it may have reached the service.

Ordered batches run in the calling thread, one item after another, in array order. The
first item that fails for a reason that might pass later (throttled, unavailable, timed
out, a 5xx) stops the run: the items after it are reported ``NotAttempted`` (424), never
sent, so retrying the rest keeps the order. Items refused for good (invalid, forbidden,
rejected by the service) do not stop the run: waiting would not change their answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from queue import Empty, SimpleQueue

from functions.core.batch import Batch, BatchItem
from functions.core.command import Command
from functions.core.errors import FacadeError, NotAttempted, NotFound
from functions.core.facade import Outcome
from functions.core.runner_limit import RunnerLimit

log = logging.getLogger(__name__)

Send = Callable[[Command], Outcome]


@dataclass(frozen=True)
class ItemResult:
    """What one item came to: an outcome from the service, or the error that stopped it."""

    item: BatchItem
    result: Outcome | FacadeError  # one of the two, never neither

    @property
    def outcome(self) -> Outcome | None:
        return self.result if isinstance(self.result, Outcome) else None

    @property
    def error(self) -> FacadeError | None:
        return self.result if isinstance(self.result, FacadeError) else None

    @property
    def problem(self) -> FacadeError | None:
        """The failure to report, a 404 the catalog calls an answer included."""
        if isinstance(self.result, FacadeError):
            return self.result
        meaning = self.result.not_found
        return NotFound(meaning.detail) if meaning is not None else None

    @property
    def status(self) -> int:
        problem = self.problem
        if problem is not None:
            return problem.status
        assert isinstance(self.result, Outcome)  # no problem: an outcome
        return self.result.status

    @property
    def retryable(self) -> bool:
        """Failed, and trying again later might succeed (the queue re-queues these)."""
        return self.error is not None and self.error.retryable


@dataclass(frozen=True)
class Workers:
    """The worker's threads for batch items and the limit on how many send at once."""

    pool: ThreadPoolExecutor
    limit: RunnerLimit


_workers: dict[int, Workers] = {}
_workers_lock = threading.Lock()


def workers(parallelism: int) -> Workers:
    """The worker's batch threads for a parallelism setting (one set per value; threads start on demand)."""
    with _workers_lock:
        found = _workers.get(parallelism)
        if found is None:
            found = _workers[parallelism] = Workers(
                ThreadPoolExecutor(parallelism, thread_name_prefix="batch-item"), RunnerLimit(parallelism))
        return found


def _refused(item: BatchItem) -> ItemResult:
    assert item.error is not None  # a BatchItem holds its command or the error that refused it
    return ItemResult(item, item.error)


def _attempt(send: Send, item: BatchItem, command: Command) -> ItemResult:
    try:
        return ItemResult(item, send(command))
    except FacadeError as error:
        return ItemResult(item, error)
    except Exception as error:  # one item's bug must not lose the others' results
        log.error("batch item %s failed unexpectedly: %s", item.index, type(error).__name__)
        return ItemResult(item, FacadeError())


def run_batch(batch: Batch, send: Send, *, parallelism: int) -> list[ItemResult]:
    """One result per item, in the batch's order; refused items are reported, never sent."""
    if batch.ordered:
        return _run_in_order(batch, send)
    results: list[ItemResult | None] = [
        None if item.command is not None else _refused(item) for item in batch.items
    ]
    # A SimpleQueue hands each item to exactly one runner without a Python-level lock: sixteen
    # runners contending for a Lock cost measurable CPU (`python -m bench --only batch_http`).
    claims: SimpleQueue[tuple[int, BatchItem, Command]] = SimpleQueue()
    runnable = 0
    for position, item in enumerate(batch.items):
        if item.command is not None:
            claims.put((position, item, item.command))
            runnable += 1

    def drain(limit: RunnerLimit) -> None:
        # A few runners each take the next unclaimed item until none is left: one hand-off per
        # runner rather than per item, and a busy thread keeps going instead of being woken again.
        # A slot first, then an item: a runner waiting for a slot holds no item back from the others.
        with limit.slot():
            while True:
                try:
                    position, item, command = claims.get_nowait()
                except Empty:
                    return
                results[position] = _attempt(send, item, command)
                if limit.over_limit():
                    limit.step_back()

    if runnable:
        batch_workers = workers(parallelism)
        runners = [batch_workers.pool.submit(drain, batch_workers.limit) for _ in range(min(parallelism, runnable))]
        for runner in runners:
            runner.result()
    return [result if result is not None else ItemResult(item, FacadeError())  # a runner that died
            for item, result in zip(batch.items, results, strict=True)]


def _run_in_order(batch: Batch, send: Send) -> list[ItemResult]:
    results: list[ItemResult] = []
    stopped_by: int | None = None
    for item in batch.items:
        command = item.command
        if command is None:
            results.append(_refused(item))
        elif stopped_by is not None:
            results.append(ItemResult(item, NotAttempted(f"Not sent: item {stopped_by} failed before it")))
        else:
            result = _attempt(send, item, command)
            results.append(result)
            if result.retryable:
                stopped_by = item.index
    return results
