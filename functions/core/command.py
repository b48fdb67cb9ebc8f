"""Build a validated ``Command`` from raw inputs: one implementation for HTTP, queue and batches.

``build_command`` runs every parameter's catalog rule and the payload check, and collects
every failure into one ``ValidationError``, so a caller sees all that is wrong at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.catalog.bodies import Payload, check_payload
from functions.catalog.operations import OperationSpec, Permission
from functions.catalog.rules import Invalid, check_hub
from functions.core.errors import FieldError, PayloadTooLarge, ValidationError
from functions.core.json_input import JsonInputError, decode_json

__all__ = ["Command", "Payload", "build_command", "check_body_size", "check_payload", "parse_json", "validate_hub"]

MAX_BODY_BYTES = 1024 * 1024  # SignalR's own REST body limit


@dataclass(frozen=True)
class Command:
    """A validated operation, ready to forward: the same whether it came by HTTP or queue."""

    spec: OperationSpec
    hub: str
    args: Mapping[str, Any]
    payload: Any = None  # the body's checked value (a Payload, a CommandList), or None
    correlation_id: str | None = None
    tenant_id: str | None = None  # a queued command's tenant, in multi-tenant mode
    application: str | None = None  # set by the facade: the upstream `application` namespace
    # A queued retry of a partly delivered command: only these endpoints (functions.signalr.router).
    endpoints: tuple[str, ...] | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        """Every permission this command needs (``:execute``: one per command type in it)."""
        return self.spec.permissions_for(self.payload)


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
    tenant_id: str | None = None,
    endpoints: tuple[str, ...] | None = None,
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
    if spec.body is not None:
        if payload is None:
            errors.append(FieldError(payload_field, f"is required: {spec.body.description}"))
        else:
            try:
                clean_payload = spec.body.rule.check(payload)
            except Invalid as e:
                errors.append(FieldError(payload_field, str(e)))
    if errors:
        raise ValidationError(errors)
    hub = args.pop("hub")
    return Command(spec, hub, args, clean_payload, correlation_id, tenant_id, endpoints=endpoints)
