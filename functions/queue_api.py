"""The queue trigger: backends drop commands on a Storage queue; nothing is lost silently.

Outcomes, each logged once with the message id, operation, hub and correlation id:
- executed: SignalR accepted it; the message is deleted by the host;
- dead-lettered: the message can never succeed (invalid, not allowed, refused by SignalR
  as bad); it is written verbatim with its reason to ``<queue>-invalid`` and not retried;
- retried: a transient failure (throttling, 5xx, timeout, connection, credentials) raises,
  so the host makes it visible again and, after ``maxDequeueCount`` tries, moves it to
  ``<queue>-poison``.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from .errors import FacadeError, PermissionDenied, RequestError, UpstreamRejected
from .facade import get_facade
from .settings import COMMANDS_QUEUE, COMMANDS_STORAGE_CONNECTION

log = logging.getLogger(__name__)

bp = func.Blueprint()

# Refused for good: retrying cannot help, so these are dead-lettered instead.
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


def _describe(error: FacadeError) -> tuple[str, list[dict[str, str]]]:
    fields = [{"field": e.field, "message": e.message} for e in getattr(error, "errors", [])]
    return f"{error.slug}: {error.detail}", fields


@bp.function_name("executeCommand")
@bp.queue_trigger(arg_name="msg", queue_name=f"%{COMMANDS_QUEUE}%", connection=COMMANDS_STORAGE_CONNECTION)
@bp.queue_output(arg_name="deadletter", queue_name=f"%{COMMANDS_QUEUE}%-invalid",
                 connection=COMMANDS_STORAGE_CONNECTION)
def execute_command(msg: func.QueueMessage, deadletter: func.Out[str]) -> None:
    ids = f"message_id={msg.id}"
    try:
        try:
            text = (msg.get_body() or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError("The message is not UTF-8 text") from None
        facade = get_facade()
        command = facade.read_queued(text)
        # Every value here has passed its rule (no control characters): the line cannot be forged.
        ids += f" operation={command.spec.name} hub={command.hub} id={command.correlation_id!r}"
        outcome = facade.run_queued(command)
    except PERMANENT as error:
        reason, fields = _describe(error)
        deadletter.set(dead_letter_record(msg, reason, fields))
        log.warning("queue command dead-lettered: %s reason=%s", ids, error.slug)
        return
    except FacadeError as error:
        # Only transient trouble gets here: raising makes the host retry, then poison the message.
        log.warning("queue command failed, will be retried: %s dequeue_count=%s error=%s",
                    ids, getattr(msg, "dequeue_count", None), error.slug)
        raise
    if outcome.dead_letter_on_queue:
        deadletter.set(dead_letter_record(msg, f"not-found: {outcome.spec.not_found.detail}"))
        log.warning("queue command dead-lettered: %s reason=not-found", ids)
        return
    log.info("queue command executed: %s status=%s", ids, outcome.status)
