"""Invocations from MessagePack clients: the service posts them as ``application/x-msgpack``.

The MessagePack hub protocol (dotnet/aspnetcore ``src/SignalR/docs/specs/HubProtocol.md``,
"MessagePack (MsgPack) encoding"): each message is a VarInt length prefix (7 bits a byte, least
significant group first, at most 5 bytes) and a MessagePack array; an Invocation is
``[1, Headers, InvocationId, Target, Arguments]`` (+ ``StreamIds`` in newer clients), with
``InvocationId`` nil for a ``send``. The service posts one message per request, as the official
emulator does (``HttpServerlessMessageHandler.cs`` picks the media type by the client's protocol).

The envelope stays JSON, so arguments are mapped to JSON values: a binary value becomes
``{"$binary": "<base64>"}`` (the only marker; a client map whose only key is ``$binary`` is
refused, so a marker is never ambiguous), a timestamp (extension -1) an ISO 8601 string;
anything JSON cannot hold (another extension type, a map key that is not a string, NaN or
infinity, invalid UTF-8, deeper than the JSON reader's limit) is a 400 naming the field.
``msgpack`` is imported on first use: JSON clients never pay for it at cold start.
"""

from __future__ import annotations

import base64
import math
from datetime import UTC
from typing import Any

from functions.core.errors import FieldError, ValidationError
from functions.core.json_input import MAX_DEPTH

MESSAGEPACK_INVOCATION = 1
BINARY_MARKER = "$binary"
_MAX_VARINT_BYTES = 5


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, message)])


def split_message(raw: bytes) -> bytes:
    """The one length-prefixed message a body holds (anything before or after it: 400)."""
    length, shift = 0, 0
    for index in range(min(len(raw), _MAX_VARINT_BYTES)):
        byte = raw[index]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            payload = raw[index + 1:]
            if len(payload) != length:
                raise _invalid("body", "must be exactly one length-prefixed MessagePack message")
            return payload
    raise _invalid("body", "must start with a MessagePack hub protocol length prefix")


def _json_value(value: Any, field: str, depth: int = 0) -> Any:
    import msgpack

    if depth > MAX_DEPTH:
        raise _invalid(field, f"must nest at most {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _invalid(field, "must not hold NaN or infinity (JSON cannot)")
        return value
    if isinstance(value, bytes):
        return {BINARY_MARKER: base64.b64encode(value).decode("ascii")}
    if isinstance(value, msgpack.Timestamp):
        return value.to_datetime().astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (list, tuple)):
        return [_json_value(item, field, depth + 1) for item in value]
    if isinstance(value, dict):
        if any(not isinstance(key, str) for key in value):
            raise _invalid(field, "must have only string map keys (JSON cannot hold others)")
        if list(value) == [BINARY_MARKER]:
            raise _invalid(field, f"must not be a map whose only key is '{BINARY_MARKER}' (the binary marker)")
        return {key: _json_value(item, field, depth + 1) for key, item in value.items()}
    raise _invalid(field, "must hold only values JSON can represent (no MessagePack extension types)")


def read_invocation(raw: bytes) -> dict[str, Any]:
    """``{"type", "invocationId", "target", "arguments"}`` of the body's Invocation, in JSON terms."""
    import msgpack

    payload = split_message(raw)
    try:
        message = msgpack.unpackb(payload, raw=False, strict_map_key=False, timestamp=0, use_list=True)
    except (ValueError, TypeError) as e:  # every msgpack error, invalid UTF-8, an unhashable key
        raise _invalid("body", f"is not valid MessagePack ({type(e).__name__})") from None
    if not isinstance(message, list) or len(message) < 5 or message[0] != MESSAGEPACK_INVOCATION:
        raise _invalid("body.type", "must be 1 (an Invocation message)")
    _, headers, invocation_id, target, arguments = message[:5]
    if not isinstance(headers, dict):
        raise _invalid("body.headers", "must be a map")
    if not isinstance(arguments, list):
        raise _invalid("body.arguments", "must be an array")
    return {"type": MESSAGEPACK_INVOCATION, "invocationId": invocation_id, "target": target,
            "arguments": _json_value(arguments, "body.arguments")}
