"""The idempotency records, in one Azure Table: reserve before sending, then complete or release.

A record's life (every write is atomic on the service, so any number of workers can race):

- **reserve**: insert ``State=reserved`` with a lease (``LeaseUntil``, ``LEASE_SECONDS`` from now).
  The insert fails if the record exists: the key was seen. The existing record then decides:
  answered (``done``: replay it, or skip the duplicate), still leased (``busy``: 409, try later),
  used for another request (``mismatch``: 422), or free to take over: its lease ran out without an
  answer (the worker died between reserve and send) or the record outlived the window (``ExpiresAt``).
  A take-over is an update conditional on the record's ETag: of two takers, one wins and the other
  sees the winner's reservation.
- **complete**: replace the reservation (ETag-conditional: only its holder may) with the answer.
- **release**: delete the reservation (ETag-conditional) after a failure that may pass, so that a
  retry runs at once rather than after the lease.

A queued batch's records go in Table transactions (up to ``TRANSACTION_LIMIT`` entities of one
partition per round trip; keys.py puts a scope's records in one partition): one transaction to
reserve, one to complete. A transaction is atomic, so one key already seen fails it whole; the
records that exist are then read (``QUERY_COMPARISONS`` keys per query: the service allows at most
15 comparisons in a filter) and one more transaction reserves the rest and takes over what may be.

Records carry their expiry; the Table service deletes nothing by itself, so an expired record is
simply taken over the next time its key is seen.

Every failure to reach the table is ``IdempotencyUnavailable`` (503, retryable): a keyed command is
then never sent. azure-data-tables (and azure-core) is imported here on first use only: it costs
about as much to import as a whole naive function's cold start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from functions.core.errors import ConfigurationError, IdempotencyUnavailable
from functions.core.idempotency.config import StoreSettings
from functions.core.idempotency.keys import RecordKey
from functions.core.idempotency.records import (
    BODY_CHUNK,
    LEASE_SECONDS,
    MAX_BODY_CHUNKS,
    MAX_TRIES,
    Answer,
    Clock,
    Reservation,
    Verdict,
)
from functions.core.idempotency.transactions import TransactionsMixin

if TYPE_CHECKING:
    from azure.data.tables import TableClient

log = logging.getLogger(__name__)
# azure-core logs every request at INFO: one line per Table round trip would drown the facade's own.
_SDK_LOG = logging.getLogger(__name__ + ".sdk")
_SDK_LOG.setLevel(logging.WARNING)

def table_client(settings: StoreSettings, **options: Any) -> TableClient:
    """A TableClient for the store's settings: a connection string, or an endpoint and an Entra identity."""
    from azure.data.tables import TableClient

    # One quick retry: a keyed request waits on this, and a store that is down must be a prompt 503.
    options = {"retry_total": 1, "retry_backoff_factor": 0.2, "connection_timeout": 3, "read_timeout": 10,
               "logger": _SDK_LOG, **options}
    if settings.connection_string:
        return TableClient.from_connection_string(settings.connection_string, settings.table, **options)
    if settings.table_service_uri:
        import azure.identity as identity

        credential = (identity.ManagedIdentityCredential(client_id=settings.client_id)
                      if settings.credential == "managedidentity"
                      else identity.DefaultAzureCredential(managed_identity_client_id=settings.client_id))
        return TableClient(settings.table_service_uri, settings.table, credential=credential, **options)
    raise ConfigurationError("SIGNALR_COMMANDS_STORAGE (or its __tableServiceUri) is not set: "
                             "idempotency keys need the idempotency table")


def _answer_of(entity: dict[str, Any]) -> Answer | None:
    status = entity.get("Status")
    if status is None:
        return None
    parts = int(entity.get("BodyParts") or 0)
    body = "".join(str(entity.get(f"Body{i}") or "") for i in range(parts))
    return Answer(int(status), body, entity.get("ContentType") or None)


class IdempotencyStore(TransactionsMixin):
    """The records of one table; ``clock`` (seconds since the epoch) is injectable so leases can be tested."""

    def __init__(self, settings: StoreSettings, *, clock: Clock = time.time,
                 client_factory: Callable[[], TableClient] | None = None, lease: float = LEASE_SECONDS) -> None:
        self.settings = settings
        self.clock = clock
        self.lease = lease
        self._factory = client_factory or (lambda: table_client(settings))
        self._table: TableClient | None = None
        self._lock = threading.RLock()  # the table creation reads self.table under it
        self._table_created = False

    @property
    def table(self) -> TableClient:
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = self._factory()
        return self._table

    def close(self) -> None:
        if self._table is not None:
            self._table.close()

    # Entities.

    def _reserved(self, key: RecordKey, now: float, lease: float | None = None) -> dict[str, Any]:
        return {"PartitionKey": key.partition, "RowKey": key.row, "State": "reserved",
                "Fingerprint": key.fingerprint, "LeaseUntil": now + (lease or self.lease),
                "ExpiresAt": now + self.settings.ttl}

    def _done(self, key: RecordKey, answer: Answer, now: float) -> dict[str, Any]:
        entity: dict[str, Any] = {"PartitionKey": key.partition, "RowKey": key.row, "State": "done",
                                  "Fingerprint": key.fingerprint, "ExpiresAt": now + self.settings.ttl,
                                  "Status": answer.status, "ContentType": answer.content_type or ""}
        chunks = [answer.body[i:i + BODY_CHUNK] for i in range(0, len(answer.body), BODY_CHUNK)]
        if len(chunks) > MAX_BODY_CHUNKS:  # too big to keep: a repeat gets the status alone, never a resend
            log.warning("idempotency record kept without its body: the body is %s characters", len(answer.body))
            chunks = []
        entity["BodyParts"] = len(chunks)
        entity.update({f"Body{i}": chunk for i, chunk in enumerate(chunks)})
        return entity

    def _judge(self, key: RecordKey, entity: dict[str, Any], now: float) -> Reservation | None:
        """What an existing record means for ``key``; None when it may be taken over."""
        if float(entity.get("ExpiresAt") or 0) <= now:
            return None  # outlived the window: the key is new again
        if entity.get("Fingerprint") != key.fingerprint:
            return Reservation(key, Verdict.MISMATCH)
        if entity.get("State") == "done":
            return Reservation(key, Verdict.DONE, answer=_answer_of(entity))
        lease_until = float(entity.get("LeaseUntil") or 0)
        if lease_until <= now:
            return None  # its worker died between reserve and answer: take it over
        return Reservation(key, Verdict.BUSY)  # the first request is usually answered within a second

    # Calls to the service, every failure to reach it mapped to IdempotencyUnavailable.

    def _call(self, what: str, call: Callable[[], Any], *expected: type[BaseException]) -> Any:
        """``call``, letting through only the ``expected`` answers (a conflict, a changed ETag)."""
        from azure.core.exceptions import AzureError

        try:
            return call()
        except AzureError as error:
            if _table_not_found(error):  # whatever the call expected: a transaction fails so too
                missing = IdempotencyUnavailable("The idempotency table does not exist; nothing was sent")
                missing.table_missing = True  # _with_table creates it; elsewhere it is unavailable like any failure
                raise missing from None
            if isinstance(error, expected):
                raise
            log.warning("idempotency store: %s failed: %s", what, type(error).__name__)
            raise IdempotencyUnavailable("The idempotency store cannot be reached; nothing was sent") from None

    def _with_table(self, what: str, call: Callable[[], Any], *expected: type[BaseException]) -> Any:
        """``call``; if the table does not exist, create it (once, whichever thread meets it first: the local
        stack; Bicep creates it in Azure) and call again."""
        try:
            return self._call(what, call, *expected)
        except IdempotencyUnavailable as error:
            if not getattr(error, "table_missing", False):
                raise
        with self._lock:
            if not self._table_created:
                self._create_table()
                self._table_created = True
        return self._call(what, call, *expected)

    def _create_table(self) -> None:
        from azure.core.exceptions import AzureError, ResourceExistsError

        try:
            self.table.create_table()
            log.info("idempotency store: created table %s", self.settings.table)
        except ResourceExistsError:
            pass
        except AzureError as error:
            log.warning("idempotency store: table %s is missing and cannot be created: %s",
                        self.settings.table, type(error).__name__)
            raise IdempotencyUnavailable("The idempotency table does not exist; nothing was sent") from None

    # One record.

    def reserve(self, key: RecordKey, *, lease: float | None = None) -> Reservation:
        """Reserve ``key`` before sending (for ``lease`` seconds, default the store's); the verdict says
        whether to send (CLAIMED) or what to answer."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        table = self.table
        for _ in range(MAX_TRIES):
            now = self.clock()
            try:
                entity = self._reserved(key, now, lease)
                created = self._with_table("reserve", partial(table.create_entity, entity), ResourceExistsError)
                return Reservation(key, Verdict.CLAIMED, etag=created["etag"])
            except ResourceExistsError:
                pass
            try:
                existing = self._call("read", lambda: table.get_entity(key.partition, key.row), ResourceNotFoundError)
            except ResourceNotFoundError:
                continue  # released in between: insert again
            verdict = self._judge(key, existing, now)
            if verdict is not None:
                return verdict
            entity, etag = self._reserved(key, now, lease), existing.metadata["etag"]
            try:
                taken = self._call("take over", partial(
                    table.update_entity, entity, mode=UpdateMode.REPLACE, etag=etag,
                    match_condition=MatchConditions.IfNotModified), ResourceModifiedError, ResourceNotFoundError)
            except (ResourceModifiedError, ResourceNotFoundError):
                continue  # another worker took it (or it went): look again
            log.info("idempotency record taken over after its lease or window ended")
            return Reservation(key, Verdict.CLAIMED, etag=taken["etag"])
        return Reservation(key, Verdict.BUSY)

    def complete(self, reservation: Reservation, answer: Answer) -> bool:
        """Record the answer in place of the reservation; False (logged) when that was not possible."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        entity = self._done(reservation.key, answer, self.clock())
        try:
            self._call("complete", lambda: self.table.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=reservation.etag,
                match_condition=MatchConditions.IfNotModified), ResourceModifiedError, ResourceNotFoundError)
        except (ResourceModifiedError, ResourceNotFoundError):
            log.warning("idempotency record not completed: its lease ended and another worker took it over")
            return False
        except IdempotencyUnavailable:
            # Sent, but not recorded: a repeat after the lease may send again (docs/guides/idempotency.md).
            log.warning("idempotency record not completed: the store failed after the command was sent")
            return False
        return True

    def release(self, reservation: Reservation) -> None:
        """Free the key after a failure that may pass (best effort: otherwise the lease frees it)."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        try:
            self._call("release", lambda: self.table.delete_entity(
                reservation.key.partition, reservation.key.row, etag=reservation.etag,
                match_condition=MatchConditions.IfNotModified), ResourceModifiedError, ResourceNotFoundError)
        except (ResourceModifiedError, ResourceNotFoundError, IdempotencyUnavailable):
            log.warning("idempotency record not released; its lease frees the key")



def _table_not_found(error: BaseException) -> bool:
    return getattr(error, "error_code", None) == "TableNotFound" or "TableNotFound" in str(error)
