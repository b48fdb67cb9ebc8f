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

import json
import logging
import typing

import azure.functions as func

from functions.core.batch import Batch
from functions.core.errors import FacadeError, RequestError
from functions.core.facade import Facade, get_facade
from functions.core.log_text import log_safe
from functions.core.queued import queued_attempt
from functions.core.settings import COMMANDS_QUEUE, COMMANDS_STORAGE_CONNECTION
from functions.queue.batch import run_queued_batch
from functions.queue.records import Origin, message_record, plan_retry, reason_of
from functions.signalr.router import pending_endpoints

log = logging.getLogger(__name__)

bp = func.Blueprint()

def _origin(msg: func.QueueMessage, attempt: int = 1) -> Origin:
    return Origin(msg.id, getattr(msg, "dequeue_count", None), attempt)


def _requeue_where_owed(facade: Facade, text: str, owed: tuple[str, ...], msg: func.QueueMessage,
                        error: FacadeError, requeue: func.Out[str], poison: func.Out[list[str]]) -> bool:
    """A new message naming only the endpoints still owed (the re-queue rule, as for a batch's remainder);
    False when it went to the poison queue instead."""
    data = json.loads(text)
    attempt = queued_attempt(data)
    retry = plan_retry({**data, "endpoints": list(owed)}, attempt, facade.settings.batch_max_attempts)
    if retry.message is not None:
        requeue.set(retry.message)
        return True
    reason = f"{retry.poison_reason} on endpoints {','.join(owed)} (last: {error.slug})"
    poison.set([message_record(reason, _origin(msg, attempt), msg.get_body() or b"")])
    return False


@bp.function_name("executeCommand")
@bp.queue_trigger(arg_name="msg", queue_name=f"%{COMMANDS_QUEUE}%", connection=COMMANDS_STORAGE_CONNECTION)
@bp.queue_output(arg_name="deadletter", queue_name=f"%{COMMANDS_QUEUE}%-invalid",
                 connection=COMMANDS_STORAGE_CONNECTION)
# Batches (functions.queue.batch): what is left after a transient failure goes back on the
# commands queue as one new message; what still fails after the last attempt, to the poison queue.
@bp.queue_output(arg_name="requeue", queue_name=f"%{COMMANDS_QUEUE}%", connection=COMMANDS_STORAGE_CONNECTION)
@bp.queue_output(arg_name="poison", queue_name=f"%{COMMANDS_QUEUE}%-poison",
                 connection=COMMANDS_STORAGE_CONNECTION)
# typing.List, not list: the worker's queue converter only recognises the typing form.
def execute_command(
    msg: func.QueueMessage,
    deadletter: func.Out[typing.List[str]],  # noqa: UP006
    requeue: func.Out[str],
    poison: func.Out[typing.List[str]],  # noqa: UP006
) -> None:
    ids = f"message_id={log_safe(msg.id)}"
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
        # Each value has passed its rule (no control characters) and is escaped still: one rule for every line.
        ids += (f" operation={command.spec.name} hub={log_safe(command.hub)}"
                f" id={log_safe(command.correlation_id)}")
        outcome = facade.run_queued(command)
    except FacadeError as error:
        if not error.retryable:  # the one retry rule (functions.core.errors): refused for good
            deadletter.set([message_record(reason_of(error), _origin(msg), msg.get_body() or b"", error)])
            log.warning("queue command dead-lettered: %s reason=%s", ids, error.slug)
            return
        owed = pending_endpoints(error)
        if owed:  # some SignalR endpoints took it: resending everywhere would deliver it twice
            where = "re-queued" if _requeue_where_owed(facade, text, owed, msg, error, requeue, poison) else "poisoned"
            log.warning("queue command partly delivered, %s for endpoints %s: %s error=%s",
                        where, log_safe(",".join(owed)), ids, error.slug)
            return
        # Only retryable trouble gets here: raising makes the host retry, then poison the message.
        log.warning("queue command failed, will be retried: %s dequeue_count=%s error=%s",
                    ids, log_safe(getattr(msg, "dequeue_count", None)), error.slug)
        raise
    if outcome.dead_letter_on_queue and outcome.not_found is not None:
        deadletter.set([message_record(f"not-found: {outcome.not_found.detail}", _origin(msg),
                                       msg.get_body() or b"")])
        log.warning("queue command dead-lettered: %s reason=not-found", ids)
        return
    log.info("queue command executed: %s status=%s", ids, outcome.status)
