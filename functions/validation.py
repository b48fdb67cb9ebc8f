"""Input rules, shared by the HTTP and queue paths: one implementation of every check.

Each ``check_*`` takes raw input and returns the clean value or raises ``_Invalid`` with
a message; ``build_command`` runs them for an operation and collects every failure into
one ``ValidationError``, so a caller sees all that is wrong at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalog import OperationSpec
from .errors import FieldError, PayloadTooLarge, ValidationError

MAX_BODY_BYTES = 1024 * 1024  # SignalR's own REST body limit
MAX_ID_LENGTH = 1024
MAX_HUB_LENGTH = 128
MAX_EXCLUDED = 100
MAX_TTL_SECONDS = 31_536_000
MAX_REASON_LENGTH = 1024

_HUB = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DIGITS = re.compile(r"[0-9]+")
# "." and ".." are dot segments: percent-encoding cannot keep them literal (RFC 3986 treats
# "%2E" as "."), so HTTP stacks resolve them and the call would land on another route, e.g.
# removeConnectionFromGroup with group ".." would become closeConnection upstream.
DOT_SEGMENTS = frozenset({".", ".."})


class _Invalid(Exception):
    """A single rule broken by a single value (collected into ValidationError)."""


@dataclass(frozen=True)
class Payload:
    """A hub invocation: the client method to call and its arguments."""

    target: str
    arguments: list[Any]

    def upstream(self) -> dict[str, Any]:
        # The v1 REST API's PayloadMessage is PascalCase.
        return {"Target": self.target, "Arguments": self.arguments}


@dataclass(frozen=True)
class Command:
    """A validated operation, ready to forward: the same whether it came by HTTP or queue."""

    spec: OperationSpec
    hub: str
    args: Mapping[str, Any]
    payload: Payload | None = None
    correlation_id: str | None = None


def check_hub(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid("is required")
    if len(value) > MAX_HUB_LENGTH:
        raise _Invalid(f"must be at most {MAX_HUB_LENGTH} characters")
    if not _HUB.fullmatch(value):
        raise _Invalid("must start with a letter and contain only letters, digits or underscores")
    return value


def check_group(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid("is required")
    if len(value) > MAX_ID_LENGTH:
        raise _Invalid(f"must be at most {MAX_ID_LENGTH} characters")
    if value.isspace():
        raise _Invalid("must not be only whitespace")
    _check_not_dot_segment(value)
    return value


def _check_not_dot_segment(value: str) -> None:
    if value in DOT_SEGMENTS:
        raise _Invalid("must not be '.' or '..' (they cannot be addressed as a path segment)")


def check_id(value: Any) -> str:
    """User and connection ids."""
    if not isinstance(value, str) or not value:
        raise _Invalid("is required")
    if len(value) > MAX_ID_LENGTH:
        raise _Invalid(f"must be at most {MAX_ID_LENGTH} characters")
    if _CONTROL.search(value):
        raise _Invalid("must not contain control characters")
    _check_not_dot_segment(value)
    return value


def check_excluded(values: Any) -> list[str]:
    if not isinstance(values, list):
        raise _Invalid("must be a list of connection ids")
    if len(values) > MAX_EXCLUDED:
        raise _Invalid(f"must list at most {MAX_EXCLUDED} connection ids")
    for index, value in enumerate(values):
        try:
            check_id(value)
        except _Invalid as e:
            raise _Invalid(f"item {index} {e}") from None
    return values


def check_ttl(value: Any) -> int:
    # Queue messages carry a JSON number; HTTP carries text. bool is an int in Python: refuse it.
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Invalid("must be a whole number of seconds")
    if not 0 <= value <= MAX_TTL_SECONDS:
        raise _Invalid(f"must be between 0 and {MAX_TTL_SECONDS} seconds")
    return value


def check_reason(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("must be a string")
    if len(value) > MAX_REASON_LENGTH:
        raise _Invalid(f"must be at most {MAX_REASON_LENGTH} characters")
    return value


def validate_hub(value: Any) -> str:
    """A hub name from anywhere, as a ValidationError naming the field when it is wrong."""
    try:
        return check_hub(value)
    except _Invalid as e:
        raise ValidationError([FieldError("hub", str(e))]) from None


CHECKS = {
    "hub": check_hub,
    "group": check_group,
    "user": check_id,
    "connectionId": check_id,
    "excluded": check_excluded,
    "ttl": check_ttl,
    "reason": check_reason,
}


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_json(raw: bytes | str) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity. Raises ValueError."""
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=no_constants)


def check_payload(value: Any) -> Payload:
    """A hub invocation in the seed's form (Target/Arguments) or camelCase (target/arguments)."""
    if not isinstance(value, dict):
        raise _Invalid("must be a JSON object with 'target' and 'arguments'")
    unknown = sorted(k for k in value if k not in ("target", "Target", "arguments", "Arguments"))
    if unknown:
        raise _Invalid(f"has unknown fields: {', '.join(unknown)}")
    if "target" in value and "Target" in value or "arguments" in value and "Arguments" in value:
        raise _Invalid("must not give a field in both spellings")
    target = value.get("target", value.get("Target"))
    arguments = value.get("arguments", value.get("Arguments", []))
    if not isinstance(target, str) or not target.strip():
        raise _Invalid("'target' must be a non-empty string")
    if not isinstance(arguments, list):
        raise _Invalid("'arguments' must be an array")
    return Payload(target, arguments)


def check_body_size(size: int) -> None:
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is {size} bytes; the limit is {MAX_BODY_BYTES} bytes")


def build_command(
    spec: OperationSpec,
    inputs: Mapping[str, Any],
    payload: Any = None,
    *,
    payload_field: str = "body",
    correlation_id: str | None = None,
) -> Command:
    """Validate ``inputs`` (path/query values or queue fields) and the payload for ``spec``."""
    errors: list[FieldError] = []
    args: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in inputs or inputs[param.name] is None:
            if param.required:
                errors.append(FieldError(param.name, "is required"))
            continue
        try:
            args[param.name] = CHECKS[param.name](inputs[param.name])
        except _Invalid as e:
            errors.append(FieldError(param.name, str(e)))
    clean_payload = None
    if spec.has_body:
        if payload is None:
            errors.append(FieldError(payload_field, "is required: a JSON object with 'target' and 'arguments'"))
        else:
            try:
                clean_payload = check_payload(payload)
            except _Invalid as e:
                errors.append(FieldError(payload_field, str(e)))
    if errors:
        raise ValidationError(errors)
    hub = args.pop("hub")
    return Command(spec, hub, args, clean_payload, correlation_id)
