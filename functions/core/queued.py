"""Queue commands: parse a message into the same ``Command`` the HTTP path builds.

Format (docs/guides/queue-commands.md): one JSON object per message, e.g.
``{"operation": "sendToGroup", "hub": "chat", "group": "room-1",
"payload": {"target": "newMessage", "arguments": ["hello"]}, "excluded": ["c1"], "id": "abc"}``.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from typing import Any

from functions.catalog.operations import OPERATIONS, OPERATIONS_BY_NAME
from functions.catalog.rules import CORRELATION_ID, TENANT, Invalid
from functions.core.command import Command, build_command, check_body_size, parse_json
from functions.core.errors import FieldError, OperationNotAllowed, ValidationError

QUEUE_OPERATIONS = tuple(op.name for op in OPERATIONS if op.queueable)
# An HTTP batch answers each item's status only: existence checks fit (200/404), data answers do not.
BATCH_OPERATIONS = tuple(op.name for op in OPERATIONS if op.queueable or op.existence_check)
ENVELOPE_FIELDS = frozenset({"operation", "id", "tenant"})
# Written by the facade when it re-queues a command that reached some SignalR endpoints but failed
# on others (functions.signalr.router): where it is still owed, and (a lone command) its attempt.
RETRY_FIELDS = frozenset({"endpoints", "attempt"})
MAX_RETRY_ENDPOINTS = 16
_ENDPOINT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


BASE64_HINT = ("is base64-encoded JSON; send the JSON text itself (the queue's messageEncoding is none: do not set "
               "TextBase64EncodePolicy / QueueMessageEncoding.Base64 on the queue client)")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
# Names a developer reaches for instead of "operation" (the field is missing, and this one unknown).
OPERATION_ALIASES = ("op", "type", "action", "command", "method", "name")


def read_message(text: str) -> Any:
    """A message's JSON (size and I-JSON checked): one command object, or a batch (functions.core.batch)."""
    check_body_size(len(text.encode("utf-8", "surrogatepass")))
    try:
        return parse_json(text, "message")
    except ValidationError:
        if _is_base64_json(text):
            raise ValidationError([FieldError("message", BASE64_HINT)]) from None
        raise


def _is_base64_json(text: str) -> bool:
    """Whether the message is JSON wrapped in base64 (the other default of the Storage SDKs)."""
    compact = text.strip()
    if len(compact) < 4 or not _BASE64.fullmatch(compact):
        return False
    try:
        standard = compact.replace("-", "+").replace("_", "/")  # base64url too
        decoded = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True).decode("utf-8")
        json.loads(decoded)
    except (ValueError, UnicodeDecodeError):
        return False
    return decoded.lstrip()[:1] in ("{", "[")


def command_from_message(data: Any) -> Command:
    if not isinstance(data, dict):
        raise ValidationError([FieldError("message", "must be a JSON object")])
    return command_from_fields(data)


def command_from_fields(data: dict[str, Any], *, existence_checks: bool = False) -> Command:
    """One command object (a queue message or an item of a batch) as a validated ``Command``.

    ``existence_checks``: an HTTP batch may hold them (its response carries their 200/404).
    """
    name = data.get("operation")
    spec = OPERATIONS_BY_NAME.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValidationError(_unknown_operation(data, name, existence_checks))
    if not spec.queueable and not (existence_checks and spec.existence_check):
        raise OperationNotAllowed(f"'{name}' answers with data, and a queue has no reply channel; use HTTP")

    body_field = spec.body.queue_field if spec.body is not None else None
    stray = data.keys() - _fields_of(spec.name, existence_checks)
    errors = [FieldError(key[:64], "is not a field of this operation") for key in sorted(stray)] if stray else []
    endpoints = _retry_endpoints(data.get("endpoints"), errors) if not existence_checks else None
    attempt = data.get("attempt", 1)
    if type(attempt) is not int or not 1 <= attempt <= 100:
        errors.append(FieldError("attempt", "must be a whole number from 1 to 100"))
    correlation_id = data.get("id")
    if correlation_id is not None:
        try:
            CORRELATION_ID.check(correlation_id)
        except Invalid as e:
            errors.append(FieldError("id", str(e)))
    tenant_id = data.get("tenant")
    if tenant_id is not None:
        try:
            tenant_id = TENANT.check(tenant_id)
        except Invalid as e:
            errors.append(FieldError("tenant", str(e)))
    try:
        command = build_command(spec, data, data.get(body_field) if body_field else None,
                                payload_field=body_field or "payload",
                                correlation_id=correlation_id if not errors else None,
                                tenant_id=tenant_id or None, endpoints=endpoints)
    except ValidationError as e:
        errors.extend(e.errors)
    if errors:
        raise ValidationError(errors)
    return command


def _unknown_operation(data: dict[str, Any], name: object, existence_checks: bool) -> list[FieldError]:
    """What is wrong with the operation field: missing (perhaps sent under another name), or a near miss."""
    names = BATCH_OPERATIONS if existence_checks else QUEUE_OPERATIONS
    if name is None:
        errors = [FieldError("operation", f"is missing; must be one of: {', '.join(names)}")]
        errors += [FieldError(alias, "is not a field of a command; did you mean 'operation'?")
                   for alias in OPERATION_ALIASES if alias in data]
        return errors
    if isinstance(name, str):
        same = [known for known in OPERATIONS_BY_NAME if known.lower() == name.lower()]
        if same:
            return [FieldError("operation", f"is case-sensitive; did you mean '{same[0]}'?")]
    return [FieldError("operation", f"must be one of: {', '.join(names)}")]


@functools.cache
def _fields_of(operation: str, existence_checks: bool) -> frozenset[str]:
    """Every field a command object of ``operation`` may carry (over HTTP never the retry fields)."""
    spec = OPERATIONS_BY_NAME[operation]
    envelope = ENVELOPE_FIELDS if existence_checks else ENVELOPE_FIELDS | RETRY_FIELDS
    body = {spec.body.queue_field} if spec.body is not None else set()
    return envelope | body | spec.param_names


def queued_attempt(data: dict[str, Any]) -> int:
    """A lone queued command's attempt (1 unless the facade re-queued it; checked when read)."""
    return data.get("attempt", 1)


def _retry_endpoints(value: Any, errors: list[FieldError]) -> tuple[str, ...] | None:
    if value is None:
        return None
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_RETRY_ENDPOINTS
            or not all(isinstance(v, str) and _ENDPOINT_NAME.fullmatch(v) for v in value)):
        errors.append(FieldError("endpoints", f"must list 1 to {MAX_RETRY_ENDPOINTS} SignalR endpoint names"))
        return None
    return tuple(value)
