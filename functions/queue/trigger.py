"""The queue trigger: backends drop commands on a Storage queue; nothing is lost silently.

Outcomes, each logged once with the message id, operation, hub and correlation id:
- executed: SignalR accepted it; the message is deleted by the host;
- dead-lettered: the message can never succeed (invalid, not allowed, refused by SignalR
  as bad); it is written verbatim with its reason to ``<queue>-invalid`` and not retried;
- retried: a transient failure (throttling, 5xx, timeout, connection, credentials) raises,
  so the host makes it visible again and, after ``maxDequeueCount`` tries, moves it to
  ``<queue>-poison``;
- re-queued where owed: with several SignalR endpoints, a command that some endpoints took
  but a healthy one failed transiently goes back on the queue as a new message naming only
  the endpoints still owed (``endpoints``, ``attempt`` + 1); after ``SIGNALR_BATCH_MAX_ATTEMPTS``
  attempts, to ``<queue>-poison``. It is never resent where it was delivered.
"""

from __future__ import annotations

import base64
import json
import logging
import typing
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from functions.core.batch import Batch
from functions.core.errors import FacadeError, PermissionDenied, RequestError, UpstreamRejected
from functions.core.facade import Facade, get_facade
from functions.core.queued import queued_attempt
from functions.core.settings import COMMANDS_QUEUE, COMMANDS_STORAGE_CONNECTION
from functions.queue.batch import run_queued_batch
from functions.signalr.router import pending_endpoints

log = logging.getLogger(__name__)

bp = func.Blueprint()

# Refused for good: retrying cannot help, so these are dead-lettered instead (errors.is_permanent).
PERMANENT = (RequestError, PermissionDenied, UpstreamRejected)


def dead_letter_record(msg: func.QueueMessage, reason: str, errors: list[dict[str, str]] | None = None) -> str:
    raw = msg.get_body() or b""
    record: dict[str, Any] = {
        "reason": reason,
        "errors": errors or [],
        "deadLetteredAt": datetime.now(UTC).isoformat(),
        "messageId": msg.id,
        "dequeueCount": getattr(msg, "dequeue_count", None),
    }
    try:
        record["original"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        record["originalBase64"] = base64.b64encode(raw).decode("ascii")
    return json.dumps(record)


def _requeue_where_owed(facade: Facade, text: str, owed: tuple[str, ...], msg: func.QueueMessage,
                        error: FacadeError, requeue: func.Out[str], poison: func.Out[list[str]]) -> None:
    """A new message naming only the endpoints still owed (as a batch's remainder is re-queued);
    after ``SIGNALR_BATCH_MAX_ATTEMPTS`` attempts it goes to the poison queue instead."""
    data = json.loads(text)
    attempt = queued_attempt(data)
    if attempt >= facade.settings.batch_max_attempts:
        poison.set([dead_letter_record(msg, f"attempts-exhausted: still failing on endpoints {','.join(owed)} "
                                            f"after {attempt} attempts (last: {error.slug})")])
        return
    requeue.set(json.dumps({**data, "endpoints": list(owed), "attempt": attempt + 1}))


def _describe(error: FacadeError) -> tuple[str, list[dict[str, str]]]:
    fields = [{"field": e.field, "message": e.message} for e in getattr(error, "errors", [])]
    return f"{error.slug}: {error.detail}", fields


@bp.function_name("executeCommand")
@bp.queue_trigger(arg_name="msg", queue_name=f"%{COMMANDS_QUEUE}%", connection=COMMANDS_STORAGE_CONNECTION)
@bp.queue_output(arg_name="deadletter", queue_name=f"%{COMMANDS_QUEUE}%-invalid",
                 connection=COMMANDS_STORAGE_CONNECTION)
# Batches (functions/queue/batch.py): what is left after a transient failure goes back on the
# commands queue as one new message; what still fails after the last attempt, to the poison queue.
@bp.queue_output(arg_name="requeue", queue_name=f"%{COMMANDS_QUEUE}%", connection=COMMANDS_STORAGE_CONNECTION)
@bp.queue_output(arg_name="poison", queue_name=f"%{COMMANDS_QUEUE}%-poison",
                 connection=COMMANDS_STORAGE_CONNECTION)
# typing.List, not list: the worker's queue converter only recognises the typing form.
def execute_command(
    msg: func.QueueMessage,
    deadletter: func.Out[typing.List[str]],  # noqa: UP006 - a str for one command, a list for a batch
    requeue: func.Out[str],
    poison: func.Out[typing.List[str]],  # noqa: UP006
) -> None:
    ids = f"message_id={msg.id}"
    try:
        try:
            text = (msg.get_body() or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError("The message is not UTF-8 text") from None
        facade = get_facade()
        command = facade.read_queued(text)
        if isinstance(command, Batch):
            ids += f" items={len(command.items)} attempt={command.attempt}"
            result = run_queued_batch(facade, command, msg.id)
            if result.dead_letters:
                deadletter.set(result.dead_letters)
            if result.requeue is not None:
                requeue.set(result.requeue)
            if result.poison:
                poison.set(result.poison)
            counts = " ".join(f"{name}={count}" for name, count in result.counts().items())
            log.info("queue batch executed: %s %s", ids, counts)
            return
        # Every value here has passed its rule (no control characters): the line cannot be forged.
        ids += f" operation={command.spec.name} hub={command.hub} id={command.correlation_id!r}"
        outcome = facade.run_queued(command)
    except PERMANENT as error:
        reason, fields = _describe(error)
        deadletter.set(dead_letter_record(msg, reason, fields))
        log.warning("queue command dead-lettered: %s reason=%s", ids, error.slug)
        return
    except FacadeError as error:
        owed = pending_endpoints(error)
        if owed:  # some SignalR endpoints took it: resending everywhere would deliver it twice
            _requeue_where_owed(facade, text, owed, msg, error, requeue, poison)
            log.warning("queue command partly delivered, re-queued for endpoints %s: %s error=%s",
                        ",".join(owed), ids, error.slug)
            return
        # Only transient trouble gets here: raising makes the host retry, then poison the message.
        log.warning("queue command failed, will be retried: %s dequeue_count=%s error=%s",
                    ids, getattr(msg, "dequeue_count", None), error.slug)
        raise
    if outcome.dead_letter_on_queue:
        deadletter.set(dead_letter_record(msg, f"not-found: {outcome.spec.not_found.detail}"))
        log.warning("queue command dead-lettered: %s reason=not-found", ids)
        return
    log.info("queue command executed: %s status=%s", ids, outcome.status)
