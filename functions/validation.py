"""Build a validated ``Command`` from raw inputs: one implementation for HTTP, queue and batches.

``build_command`` runs every parameter's catalog rule and the payload check, and collects
every failure into one ``ValidationError``, so a caller sees all that is wrong at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalog import OperationSpec
from .errors import FieldError, PayloadTooLarge, ValidationError
from .json_input import JsonInputError, decode_json
from .rules import Invalid, check_hub, require_text

MAX_BODY_BYTES = 1024 * 1024  # SignalR's own REST body limit


@dataclass(frozen=True)
class Payload:
    """A hub invocation: the client method to call and its arguments."""

    target: str
    arguments: list[Any]

    def upstream(self) -> dict[str, Any]:
        # The REST API's PayloadMessage is PascalCase.
        return {"Target": self.target, "Arguments": self.arguments}


@dataclass(frozen=True)
class Command:
    """A validated operation, ready to forward: the same whether it came by HTTP or queue."""

    spec: OperationSpec
    hub: str
    args: Mapping[str, Any]
    payload: Payload | None = None
    correlation_id: str | None = None
    tenant_id: str | None = None  # a queued command's tenant, in multi-tenant mode
    application: str | None = None  # set by the facade: the upstream `application` namespace


def validate_hub(value: Any) -> str:
    """A hub name from anywhere, as a ValidationError naming the field when it is wrong."""
    try:
        return check_hub(value)
    except Invalid as e:
        raise ValidationError([FieldError("hub", str(e))]) from None


def parse_json(raw: bytes | str, field: str = "body") -> Any:
    """Decode untrusted JSON (see ``json_input``); a ValidationError naming ``field`` when it is bad."""
    try:
        return decode_json(raw)
    except JsonInputError as e:
        raise ValidationError([FieldError(field, str(e))]) from None


def check_payload(value: Any) -> Payload:
    """A hub invocation as camelCase (target/arguments) or the REST API's PascalCase (Target/Arguments)."""
    if not isinstance(value, dict):
        raise Invalid("must be a JSON object with 'target' and 'arguments'")
    unknown = sorted(k for k in value if k not in ("target", "Target", "arguments", "Arguments"))
    if unknown:
        raise Invalid(f"has unknown fields: {', '.join(repr(k)[:64] for k in unknown)}")
    if "target" in value and "Target" in value or "arguments" in value and "Arguments" in value:
        raise Invalid("must not give a field in both spellings")
    target = value.get("target", value.get("Target"))
    arguments = value.get("arguments", value.get("Arguments", []))
    if not isinstance(target, str) or not target.strip():
        raise Invalid("'target' must be a non-empty string")
    require_text(target)
    if not isinstance(arguments, list):
        raise Invalid("'arguments' must be an array")
    # Strings inside the arguments were checked when the JSON was decoded (json_input).
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
    """Validate ``inputs`` (route/query values or queue fields) and the payload for ``spec``."""
    errors: list[FieldError] = []
    args: dict[str, Any] = {}
    for param in spec.params:
        value = inputs.get(param.name)
        if value is None:
            if param.required:
                errors.append(FieldError(param.name, "is required"))
            continue
        try:
            args[param.name] = param.rule.check(value)
        except Invalid as e:
            errors.append(FieldError(param.name, str(e)))
    clean_payload = None
    if spec.has_body:
        if payload is None:
            errors.append(FieldError(payload_field, "is required: a JSON object with 'target' and 'arguments'"))
        else:
            try:
                clean_payload = check_payload(payload)
            except Invalid as e:
                errors.append(FieldError(payload_field, str(e)))
    if errors:
        raise ValidationError(errors)
    hub = args.pop("hub")
    return Command(spec, hub, args, clean_payload, correlation_id)
