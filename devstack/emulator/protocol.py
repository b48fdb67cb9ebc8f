"""The SignalR JSON hub protocol, as far as a serverless service speaks it (and, at the end,
the MessagePack hub protocol for clients that ask for ``messagepack`` in the handshake).

Spec: dotnet/aspnetcore ``src/SignalR/docs/specs/HubProtocol.md``. Every message is a JSON
object followed by the record separator 0x1E; the first message each way is the handshake.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

RECORD_SEPARATOR = "\x1e"

INVOCATION = 1
STREAM_ITEM = 2
COMPLETION = 3
STREAM_INVOCATION = 4
CANCEL_INVOCATION = 5
PING = 6
CLOSE = 7

# ASP.NET Core accepts any JSON protocol version up to its own (2 adds stateful-reconnect
# acks); signalrcore asks for 0.
MAX_JSON_VERSION = 2


class ProtocolError(ValueError):
    """Raised when a peer sends something that is not the JSON hub protocol."""


@dataclass(frozen=True)
class Handshake:
    protocol: str
    version: int


def _frame(obj: dict[str, Any]) -> str:
    # Compact separators: the fan-out serializes once and sends the same string to many sockets.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + RECORD_SEPARATOR


HANDSHAKE_OK = _frame({})
PING_FRAME = _frame({"type": PING})


def handshake_error(message: str) -> str:
    return _frame({"error": message})


def invocation(target: str, arguments: list[Any], invocation_id: str | None = None) -> str:
    message: dict[str, Any] = {"type": INVOCATION, "target": target, "arguments": arguments}
    if invocation_id is not None:
        message["invocationId"] = invocation_id  # the client must answer with a Completion
    return _frame(message)


def completion(invocation_id: str, error: str | None = None) -> str:
    """A Completion with no result (the client's invoke resolves with nothing) or an error."""
    message: dict[str, Any] = {"type": COMPLETION, "invocationId": invocation_id}
    if error:
        message["error"] = error
    return _frame(message)


def close(error: str | None = None, allow_reconnect: bool = False) -> str:
    message: dict[str, Any] = {"type": CLOSE}
    if error:
        message["error"] = error
    if allow_reconnect:
        message["allowReconnect"] = True
    return _frame(message)


class RecordReader:
    """Splits a stream of text chunks into complete records.

    A WebSocket frame may carry several records, or (in theory) half of one.
    """

    def __init__(self, max_buffer: int = 1024 * 1024) -> None:
        self._buffer = ""
        self._max_buffer = max_buffer

    def feed(self, chunk: str) -> list[str]:
        self._buffer += chunk
        if RECORD_SEPARATOR not in self._buffer:
            if len(self._buffer) > self._max_buffer:
                raise ProtocolError("message too large")
            return []
        *records, self._buffer = self._buffer.split(RECORD_SEPARATOR)
        return records


def parse_message(record: str) -> dict[str, Any]:
    try:
        message = json.loads(record)
    except ValueError as e:
        raise ProtocolError("a message is not valid JSON") from e
    if not isinstance(message, dict):
        raise ProtocolError("a message is not a JSON object")
    return message


def parse_handshake(record: str) -> Handshake:
    message = parse_message(record)
    protocol, version = message.get("protocol"), message.get("version")
    if not isinstance(protocol, str) or not isinstance(version, int) or isinstance(version, bool):
        raise ProtocolError("the handshake request needs 'protocol' and 'version'")
    return Handshake(protocol, version)


# The MessagePack hub protocol (HubProtocol.md, "MessagePack (MsgPack) encoding"): after the JSON
# handshake, binary frames of VarInt-length-prefixed MessagePack arrays. The emulator builds every
# message as JSON (one serialization for a fan-out) and re-encodes it for MessagePack connections.
MESSAGEPACK = "messagepack"
MAX_MESSAGEPACK_VERSION = 2


def _length_prefixed(payload: bytes) -> bytes:
    length, prefix = len(payload), bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        prefix.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(prefix) + payload


def to_messagepack(frame: str) -> bytes:
    """A JSON protocol frame (records ending in 0x1E) as MessagePack protocol messages."""
    import msgpack

    out = b""
    for record in frame.split(RECORD_SEPARATOR):
        if not record:
            continue
        message = parse_message(record)
        kind = message.get("type")
        if kind == INVOCATION:
            array: list[Any] = [INVOCATION, {}, message.get("invocationId"), message["target"], message["arguments"]]
        elif kind == COMPLETION:
            array = [COMPLETION, {}, message["invocationId"]]
            if "error" in message:
                array += [1, message["error"]]
            elif "result" in message:
                array += [3, message["result"]]
            else:
                array.append(2)
        elif kind == CLOSE:
            array = [CLOSE, message.get("error"), bool(message.get("allowReconnect"))]
        else:
            array = [kind]
        out += _length_prefixed(msgpack.packb(array))
    return out


def parse_messagepack(data: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """Each message of a binary frame: as the JSON protocol's dict, and its own length-prefixed bytes."""
    import msgpack

    messages, offset = [], 0
    while offset < len(data):
        length, shift, start = 0, 0, offset
        while True:
            if offset >= len(data) or shift > 28:
                raise ProtocolError("a MessagePack message has a broken length prefix")
            byte = data[offset]
            offset += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        payload = data[offset:offset + length]
        if len(payload) != length:
            raise ProtocolError("a MessagePack message is incomplete")
        offset += length
        try:
            array = msgpack.unpackb(payload, raw=False, strict_map_key=False, timestamp=0)
        except (ValueError, TypeError) as e:
            raise ProtocolError("a message is not valid MessagePack") from e
        if not isinstance(array, list) or not array:
            raise ProtocolError("a MessagePack message is not an array")
        message: dict[str, Any] = {"type": array[0]}
        if array[0] == INVOCATION and len(array) >= 5:
            message.update(invocationId=array[2], target=array[3], arguments=array[4])
        elif array[0] == COMPLETION and len(array) >= 4:
            message["invocationId"] = array[2]
            if array[3] == 1:
                message["error"] = array[4]
            elif array[3] == 3:
                message["result"] = array[4]
        messages.append((message, data[start:offset]))
    return messages
