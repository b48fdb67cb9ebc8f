"""Request bodies: each kind is a check that returns a value knowing how to go upstream.

- ``Payload``: a hub invocation ``{target, arguments}`` (sends and ``:invoke``);
- ``CommandList``: the JSON array of ``:execute`` (2024-12-01 swagger, ``SignalRCommand``):
  ``SendMessage`` with a ``message``, ``JoinGroup``/``LeaveGroup`` with a ``group``,
  ``CloseConnection`` with an optional ``reason``.

Each check raises ``rules.Invalid`` naming the item and field that is wrong. The JSON schemas
beside the checks go into the OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.catalog.rules import NOT_BLANK, Invalid, check_group, check_reason, require_text

MAX_EXECUTE_COMMANDS = 100


@dataclass(frozen=True)
class Payload:
    """A hub invocation: the client method to call and its arguments."""

    target: str
    arguments: list[Any]

    def upstream(self) -> dict[str, Any]:
        # The v1 REST API's PayloadMessage is PascalCase.
        return {"Target": self.target, "Arguments": self.arguments}

    def upstream_dated(self) -> dict[str, Any]:
        # The dated API's PayloadMessage (2024-12-01 swagger) is camelCase.
        return {"target": self.target, "arguments": self.arguments}


_PAYLOAD_FIELDS = frozenset({"target", "Target", "arguments", "Arguments"})


def check_payload(value: Any) -> Payload:
    """A hub invocation as camelCase (target/arguments) or the REST API's PascalCase (Target/Arguments)."""
    if not isinstance(value, dict):
        raise Invalid("must be a JSON object with 'target' and 'arguments'")
    if not value.keys() <= _PAYLOAD_FIELDS:
        unknown = sorted(value.keys() - _PAYLOAD_FIELDS)
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


@dataclass(frozen=True)
class ExecuteCommand:
    type: str
    message: Payload | None = None
    group: str | None = None
    reason: str | None = None

    def upstream(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type}
        if self.message is not None:
            body["message"] = self.message.upstream_dated()
        if self.group is not None:
            body["group"] = self.group
        if self.reason is not None:
            body["reason"] = self.reason
        return body


# Each command type: its required field, its optional field, and the check of that field.
COMMAND_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "SendMessage": (("message",), ()),
    "JoinGroup": (("group",), ()),
    "LeaveGroup": (("group",), ()),
    "CloseConnection": ((), ("reason",)),
}
_FIELD_CHECKS = {"message": check_payload, "group": check_group, "reason": check_reason}


@dataclass(frozen=True)
class CommandList:
    commands: tuple[ExecuteCommand, ...]

    @property
    def types(self) -> frozenset[str]:
        return frozenset(command.type for command in self.commands)

    def upstream(self) -> list[dict[str, Any]]:
        return [command.upstream() for command in self.commands]

    upstream_dated = upstream


def _check_one_command(index: int, value: Any) -> ExecuteCommand:
    where = f"item {index}"
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be a JSON object with a 'type'")
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in COMMAND_FIELDS:
        raise Invalid(f"{where}: 'type' must be one of {', '.join(COMMAND_FIELDS)}")
    required, optional = COMMAND_FIELDS[kind]
    unknown = sorted(k for k in value if k != "type" and k not in required + optional)
    if unknown:
        raise Invalid(f"{where}: {kind} has no field {', '.join(repr(k)[:64] for k in unknown)}")
    fields: dict[str, Any] = {}
    for name in required + optional:
        if name not in value:
            if name in required:
                raise Invalid(f"{where}: {kind} needs '{name}'")
            continue
        try:
            fields[name] = _FIELD_CHECKS[name](value[name])
        except Invalid as e:
            raise Invalid(f"{where}: '{name}' {e}") from None
    return ExecuteCommand(kind, **fields)


def check_commands(value: Any) -> CommandList:
    """The ``:execute`` body: a non-empty JSON array of at most ``MAX_EXECUTE_COMMANDS`` commands."""
    if not isinstance(value, list) or not value:
        raise Invalid("must be a non-empty JSON array of commands")
    if len(value) > MAX_EXECUTE_COMMANDS:
        raise Invalid(f"must hold at most {MAX_EXECUTE_COMMANDS} commands")
    return CommandList(tuple(_check_one_command(index, item) for index, item in enumerate(value)))


PAYLOAD_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "description": "A hub invocation; 'Target'/'Arguments' (the REST API's PascalCase form) are accepted too.",
    "properties": {
        "target": {"type": "string", "pattern": NOT_BLANK},
        "arguments": {"type": "array"},
        "Target": {"type": "string", "pattern": NOT_BLANK},
        "Arguments": {"type": "array"},
    },
    # Exactly one spelling of the target; at most one of the arguments.
    "oneOf": [{"required": ["target"]}, {"required": ["Target"]}],
    "not": {"required": ["arguments", "Arguments"]},
}


def commands_schema(payload_ref: str, group: dict[str, Any], reason: dict[str, Any]) -> dict[str, Any]:
    """The ``:execute`` body's schema (one ``oneOf`` branch per command type)."""

    def command(kind: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": False, "required": ["type", *required],
                "properties": {"type": {"const": kind}, **properties}}

    return {
        "type": "array", "minItems": 1, "maxItems": MAX_EXECUTE_COMMANDS,
        "items": {"oneOf": [
            command("SendMessage", {"message": {"$ref": payload_ref}}, ["message"]),
            command("JoinGroup", {"group": group}, ["group"]),
            command("LeaveGroup", {"group": group}, ["group"]),
            command("CloseConnection", {"reason": reason}, []),
        ]},
    }
