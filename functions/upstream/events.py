"""An upstream request's headers and body, read into the envelope backends get on the queue.

What the service sends (azure-docs ``articles/azure-signalr/concept-upstream.md``; the
official emulator, Azure/azure-signalr ``src/Microsoft.Azure.SignalR.Emulator/HubEmulator/
HttpServerlessMessageHandler.cs``):

- ``connections/connected``: ``{"type":10}`` (an empty body is taken too);
- ``connections/disconnected``: ``{"type":11}``, with ``"error"`` when the connection failed;
- ``messages/<target>``: the client's Invocation in the JSON hub protocol,
  ``{"type":1,"invocationId":"1","target":"<target>","arguments":[...]}``, the record
  separator 0x1E after it or not. ``invocationId`` is there only for ``invoke``.

Headers: ``X-ASRS-Hub``, ``X-ASRS-Category``, ``X-ASRS-Event``, ``X-ASRS-Connection-Id``, and
when known ``X-ASRS-User-Id``, ``X-ASRS-User-Claims`` (``type: value`` strings joined by
``, ``), ``X-ASRS-Client-Query`` (the client's query string, as the client sent it: it may hold
the client's ``access_token``, which ``client_query`` removes). Every value is checked; anything
else is a 400 naming the field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from functions.catalog.rules import Invalid, check_hub, check_id, require_text
from functions.core.errors import FieldError, ValidationError
from functions.core.json_input import JsonInputError, decode_json

RECORD_SEPARATOR = b"\x1e"
CONNECTIONS, MESSAGES = "connections", "messages"
CONNECTION_EVENTS = ("connected", "disconnected")
INVOCATION = 1
MAX_HEADER_VALUE = 8 * 1024  # the service's whole request head is far below this per value
MAX_TARGET = 1024


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, message)])


def _header(headers: Any, name: str) -> str | None:
    """A header's value (None when absent or empty), refused when oversized or not valid text."""
    value = headers.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_HEADER_VALUE:
        raise _invalid(name, f"must be at most {MAX_HEADER_VALUE} characters")
    try:
        return require_text(value)
    except Invalid as e:
        raise _invalid(name, str(e)) from None


def _required(headers: Any, name: str) -> str:
    value = _header(headers, name)
    if value is None:
        raise _invalid(name, "is required")
    return value


def _checked(field: str, value: str | None, check: Any) -> str | None:
    if value is None:
        return None
    try:
        return check(value)
    except Invalid as e:
        raise _invalid(field, str(e)) from None


def parse_claims(header: str | None) -> list[dict[str, str]]:
    """``X-ASRS-User-Claims``, split as the Functions extension splits it.

    The service joins ``Claim.ToString()`` values (``type: value``) with ``", "``. The extension
    (Azure/azure-sdk-for-net ``sdk/signalr/Microsoft.Azure.WebJobs.Extensions.SignalRService/src/
    TriggerBindings/Utils/SignalRTriggerUtils.cs`` ``GetClaimDictionary``) splits the header on
    ``,`` dropping empty entries, splits each entry on ``": "`` dropping empty parts, keeps only
    entries of exactly two parts (so ``a:b``, ``a: b: c`` or a bare ``a`` are dropped), and trims
    type and value; so does this. A value holding ``,`` or ``": "`` cannot be told apart from
    the separators and is cut or dropped, there and here.

    Deliberate difference (the fidelity reference in the docs): the extension builds a dictionary in which
    the first value of a repeated type wins; the envelope keeps a list of every claim, in order
    (``role: a, role: b`` gives both roles). Its first entry of a type is the extension's value.
    """
    claims = []
    for entry in (header or "").split(","):
        parts = [part for part in entry.split(": ") if part]
        if entry and len(parts) == 2:
            claims.append({"type": parts[0].strip(), "value": parts[1].strip()})
    return claims


# Query parameters that belong to the service, not to the app: the client's bearer token (browsers
# put it in the WebSocket URL), the connection token, and the service's own ``asrs.*`` values.
_SERVICE_PARAMETERS = frozenset({"access_token", "id"})


def _is_service_parameter(pair: str) -> bool:
    # ASP.NET Core reads query names case-insensitively and decodes them (``%5F`` is ``_``), so
    # the comparison does too: ``Access%5FToken=`` is the same token.
    name = unquote_plus(pair.split("=", 1)[0]).strip().lower()
    return name in _SERVICE_PARAMETERS or name.startswith("asrs.")


def client_query(header: str | None) -> str | None:
    """The client's query without ``?`` and without ``access_token``, ``id`` and ``asrs.*``.

    The service may forward the client's raw query (the official emulator forwards
    ``Request.QueryString`` as it is: Azure/azure-signalr ``src/Microsoft.Azure.SignalR.Emulator/
    HubEmulator/HttpUpstreamPropertiesFeature.cs``), so the client's token would otherwise reach
    the queue and every backend that reads it. The other parameters stay exactly as sent (their
    encoding untouched); None when nothing is left.
    """
    if header is None:
        return None
    text = header[1:] if header.startswith("?") else header
    kept = [pair for pair in text.split("&") if pair and not _is_service_parameter(pair)]
    return "&".join(kept) or None


def read_connection(headers: Any) -> str:
    """The connection id the signature covers (checked before anything else is read)."""
    connection_id = _required(headers, "X-ASRS-Connection-Id")
    _checked("X-ASRS-Connection-Id", connection_id, check_id)
    return connection_id


def _body_object(raw: bytes, field: str = "body") -> dict[str, Any]:
    try:
        message = decode_json(raw)
    except JsonInputError as e:
        raise _invalid(field, str(e)) from None
    if not isinstance(message, dict):
        raise _invalid(field, "must be a JSON object")
    return message


def _get(message: dict[str, Any], name: str) -> Any:
    """A field by name in any case: the emulator writes ``Type``/``Error``, the service ``type``."""
    for key, value in message.items():
        if key.lower() == name:
            return value
    return None


def _connection_fields(event: str, raw: bytes) -> dict[str, Any]:
    if event not in CONNECTION_EVENTS:
        raise _invalid("event", "must be 'connected' or 'disconnected' for the connections category")
    if not raw.strip():
        return {"error": None}
    error = _get(_body_object(raw), "error")
    if error is not None and not isinstance(error, str):
        raise _invalid("body.error", "must be a string")
    return {"error": error if event == "disconnected" else None}


def _invocation_fields(event: str, raw: bytes, messagepack: bool) -> dict[str, Any]:
    if messagepack:
        from functions.upstream.messagepack import read_invocation

        message = read_invocation(raw)
    else:
        message = _body_object(raw[:-1] if raw.endswith(RECORD_SEPARATOR) else raw)
    if message.get("type") != INVOCATION:
        raise _invalid("body.type", "must be 1 (an Invocation message)")
    target = message.get("target")
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        raise _invalid("body.target", f"must be a string of 1 to {MAX_TARGET} characters")
    if target != event:
        raise _invalid("body.target", "must be the event the request names")
    arguments = message.get("arguments", [])
    if not isinstance(arguments, list):
        raise _invalid("body.arguments", "must be an array")
    invocation_id = message.get("invocationId")
    if invocation_id is not None and not (isinstance(invocation_id, str) and 0 < len(invocation_id) <= 256):
        raise _invalid("body.invocationId", "must be a string of 1 to 256 characters")
    return {"invocationId": invocation_id, "target": target, "arguments": arguments}


def read_event(headers: Any, route: dict[str, str], connection_id: str, raw: bytes,
               messagepack: bool = False) -> dict[str, Any]:
    """The envelope for one upstream request (hub allow-list and auth are the receiver's).

    ``messagepack``: the body is a MessagePack hub protocol Invocation (``functions.upstream.
    messagepack``); connection events are JSON whatever the client's protocol, as the service
    sends them."""
    hub = _required(headers, "X-ASRS-Hub")
    _checked("X-ASRS-Hub", hub, check_hub)
    category = _required(headers, "X-ASRS-Category")
    event = _required(headers, "X-ASRS-Event")
    # The URL and the headers come from the same service call; a mismatch is not the service.
    for field, header_value, route_value in (("hub", hub.lower(), (route.get("hub") or "").lower()),
                                            ("category", category, route.get("category")),
                                            ("event", event, route.get("event"))):
        if header_value != route_value:
            raise _invalid(field, "the URL and the X-ASRS headers disagree")
    if category == CONNECTIONS and messagepack:
        raise _invalid("body", "connection events are JSON (the service sends them so for every protocol)")
    if category == CONNECTIONS:
        fields = {"invocationId": None, "target": None, "arguments": None, **_connection_fields(event, raw)}
    elif category == MESSAGES:
        fields = {**_invocation_fields(event, raw, messagepack), "error": None}
    else:
        raise _invalid("category", "must be 'connections' or 'messages'")
    user_id = _checked("X-ASRS-User-Id", _header(headers, "X-ASRS-User-Id"), check_id)
    return {
        "id": uuid.uuid4().hex,
        "hub": hub.lower(),
        "category": category,
        "event": event,
        "connectionId": connection_id,
        "userId": user_id,
        "claims": parse_claims(_header(headers, "X-ASRS-User-Claims")),
        "clientQuery": client_query(_header(headers, "X-ASRS-Client-Query")),
        **fields,
        "receivedAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
