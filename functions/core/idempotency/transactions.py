"""A queued batch's records in Table transactions: up to ``TRANSACTION_LIMIT`` entities of one partition
per round trip (https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions).

Reserving is one transaction per partition and hundred keys when none of them was seen before. A
transaction is atomic, so a single key already seen fails it whole: the records that exist are then
read (``QUERY_COMPARISONS`` keys per query, since the service allows at most 15 comparisons in a
filter, https://learn.microsoft.com/rest/api/storageservices/querying-tables-and-entities) and one
more transaction reserves the rest and takes over the records whose lease or window ended.
Completing and releasing are one transaction each; should one fail (a lease taken over meanwhile),
its records are written one by one so that the others still count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from functions.core.errors import IdempotencyUnavailable
from functions.core.idempotency.keys import RecordKey
from functions.core.idempotency.records import (
    MAX_TRIES,
    QUERY_COMPARISONS,
    TRANSACTION_LIMIT,
    Answer,
    Reservation,
    Verdict,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from azure.data.tables import TableClient, TableEntity

    from functions.core.idempotency.records import Clock

log = logging.getLogger(__name__)


class TransactionsMixin:
    """The batch half of ``IdempotencyStore`` (store.py): it uses the store's table, calls and entities."""

    if TYPE_CHECKING:  # what the store provides (functions.core.idempotency.store.IdempotencyStore)
        clock: Clock

        @property
        def table(self) -> TableClient: ...
        def _reserved(self, key: RecordKey, now: float, lease: float | None = None) -> dict[str, Any]: ...
        def _done(self, key: RecordKey, answer: Answer, now: float) -> dict[str, Any]: ...
        def _judge(self, key: RecordKey, entity: dict[str, Any], now: float) -> Reservation | None: ...
        def _call(self, what: str, call: Callable[[], Any], *expected: type[BaseException]) -> Any: ...
        def _with_table(self, what: str, call: Callable[[], Any], *expected: type[BaseException]) -> Any: ...

    # A batch's records, in transactions.

    def reserve_many(self, keys: Sequence[RecordKey], *, lease: float | None = None) -> list[Reservation]:
        """One reservation per key, in order; a key repeated within ``keys`` is a duplicate (DONE, no answer)
        of its first (MISMATCH when the two differ)."""
        results: list[Reservation | None] = [None] * len(keys)
        first: dict[tuple[str, str], int] = {}
        for position, key in enumerate(keys):
            seen = first.setdefault((key.partition, key.row), position)
            if seen != position:
                results[position] = Reservation(key, Verdict.DONE if key.fingerprint == keys[seen].fingerprint
                                                 else Verdict.MISMATCH)
        unique = [p for p in range(len(keys)) if results[p] is None]
        for chunk in _chunks(unique, keys):
            for position, reservation in zip(chunk, self._reserve_chunk([keys[p] for p in chunk], lease), strict=True):
                results[position] = reservation
        return [r for r in results if r is not None]

    def _reserve_chunk(self, keys: list[RecordKey], lease: float | None) -> list[Reservation]:
        """Up to TRANSACTION_LIMIT keys of one partition: one transaction when none exists yet."""
        from azure.core import MatchConditions
        from azure.data.tables import TableTransactionError, UpdateMode

        table = self.table
        results: dict[int, Reservation] = {}
        pending = list(range(len(keys)))
        existing: dict[str, TableEntity] = {}
        for attempt in range(MAX_TRIES):
            now = self.clock()
            operations: list[tuple[Any, ...]] = []
            for index in pending:
                key = keys[index]
                found = existing.get(key.row)
                if found is None:
                    operations.append(("create", self._reserved(key, now, lease)))
                else:
                    operations.append(("update", self._reserved(key, now, lease),
                                       {"mode": UpdateMode.REPLACE, "etag": found.metadata["etag"],
                                        "match_condition": MatchConditions.IfNotModified}))
            if not operations:
                break
            try:
                answers = self._with_table("reserve a batch", partial(table.submit_transaction, operations),
                                           TableTransactionError)
            except TableTransactionError as error:
                if getattr(error, "status_code", None) not in (404, 409, 412) or attempt == MAX_TRIES - 1:
                    log.warning("idempotency store: a batch reservation failed: %s", error.status_code)
                    raise IdempotencyUnavailable("The idempotency store refused the batch; nothing was sent") from None
                # Some record exists (or changed since it was read): read them all, then judge each.
                existing = self._read_rows([keys[i] for i in pending])
                still = []
                for index in pending:
                    found = existing.get(keys[index].row)
                    verdict = self._judge(keys[index], found, now) if found is not None else None
                    if verdict is None:
                        still.append(index)  # absent, or free to take over
                    else:
                        results[index] = verdict
                pending = still
                continue
            for index, answer in zip(pending, answers, strict=True):
                results[index] = Reservation(keys[index], Verdict.CLAIMED, etag=answer["etag"])
            pending = []
            break
        for index in pending:  # contended through every round: try later
            results[index] = Reservation(keys[index], Verdict.BUSY)
        return [results[i] for i in range(len(keys))]

    def _read_rows(self, keys: list[RecordKey]) -> dict[str, TableEntity]:
        """The existing records of ``keys`` (one partition), by RowKey, QUERY_COMPARISONS keys per query."""
        table = self.table
        groups = [keys[i:i + QUERY_COMPARISONS] for i in range(0, len(keys), QUERY_COMPARISONS)]

        def read(group: list[RecordKey]) -> list[TableEntity]:
            names = {"pk": group[0].partition, **{f"r{i}": key.row for i, key in enumerate(group)}}
            rows = " or ".join(f"RowKey eq @r{i}" for i in range(len(group)))
            query = f"PartitionKey eq @pk and ( {rows} )"  # the SDK substitutes @names between spaces only
            return self._call("read a batch", lambda: list(table.query_entities(query, parameters=names)))

        found: dict[str, TableEntity] = {}
        if len(groups) == 1:
            entities = [read(groups[0])]
        else:
            with ThreadPoolExecutor(min(len(groups), 4), thread_name_prefix="idempotency-read") as pool:
                entities = list(pool.map(read, groups))
        for entity in (e for group in entities for e in group):
            found[entity["RowKey"]] = entity
        return found

    def complete_many(self, done: Sequence[tuple[Reservation, Answer]]) -> int:
        """Record each answer; one transaction per partition and TRANSACTION_LIMIT. How many were recorded."""
        from azure.core import MatchConditions
        from azure.data.tables import UpdateMode

        now = self.clock()
        operations = [(r.key, ("update", self._done(r.key, answer, now),
                               {"mode": UpdateMode.REPLACE, "etag": r.etag,
                                "match_condition": MatchConditions.IfNotModified})) for r, answer in done]
        return self._submit_many("complete", operations)

    def release_many(self, reservations: Sequence[Reservation]) -> int:
        """Free the keys after failures that may pass (best effort). How many were released."""
        from azure.core import MatchConditions

        operations = [(r.key, ("delete", {"PartitionKey": r.key.partition, "RowKey": r.key.row},
                               {"etag": r.etag, "match_condition": MatchConditions.IfNotModified}))
                      for r in reservations]
        return self._submit_many("release", operations)

    def _submit_many(self, what: str, operations: list[tuple[RecordKey, tuple[Any, ...]]]) -> int:
        from azure.data.tables import TableTransactionError

        table = self.table
        written = 0
        for chunk in _chunks(range(len(operations)), [key for key, _ in operations]):
            ops = [operations[i][1] for i in chunk]
            try:
                self._call(what, partial(table.submit_transaction, ops), TableTransactionError)
                written += len(ops)
                continue
            except (TableTransactionError, IdempotencyUnavailable):
                pass
            for op in ops:  # one record's lease was taken over: the others still count, one by one
                written += self._one(what, op)
        if written < len(operations):
            log.warning("idempotency store: %s of %s records not %sd", len(operations) - written,
                        len(operations), what)
        return written

    def _one(self, what: str, op: tuple[Any, ...]) -> int:
        from azure.core.exceptions import AzureError

        kind, entity, options = op
        try:
            if kind == "update":
                self.table.update_entity(entity, **options)
            else:
                self.table.delete_entity(entity["PartitionKey"], entity["RowKey"], **options)
        except AzureError:
            return 0
        return 1




def _chunks(positions: Iterable[int], keys: Sequence[RecordKey]) -> list[list[int]]:
    """``positions`` grouped by partition, in order, at most TRANSACTION_LIMIT each."""
    by_partition: dict[str, list[int]] = {}
    for position in positions:
        by_partition.setdefault(keys[position].partition, []).append(position)
    return [group[i:i + TRANSACTION_LIMIT] for group in by_partition.values()
            for i in range(0, len(group), TRANSACTION_LIMIT)]
