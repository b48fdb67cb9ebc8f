"""The JSON schema of an events-queue message (docs/guides/client-events.md shows it)."""

from __future__ import annotations

from typing import Any

_NULLABLE_STRING = {"type": ["string", "null"]}

EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "SignalR upstream event",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "hub", "category", "event", "connectionId", "userId", "claims", "clientQuery",
                 "invocationId", "target", "arguments", "error", "receivedAt", "authenticatedBy", "application",
                 "tenant"],
    "properties": {
        "id": {"type": "string", "description": "unique per upstream request (32 hex digits)"},
        "hub": {"type": "string", "description": "lower case, without the SIGNALR_APPLICATION prefix"},
        "category": {"enum": ["connections", "messages"]},
        "event": {"type": "string", "description": "connected or disconnected; for messages, the target"},
        "connectionId": {"type": "string"},
        "userId": _NULLABLE_STRING,
        "claims": {"type": "array", "items": {"type": "object", "required": ["type", "value"],
                                              "properties": {"type": {"type": "string"},
                                                             "value": {"type": "string"}}}},
        "clientQuery": {**_NULLABLE_STRING,
                        "description": "the client's query string, without '?', access_token, id and asrs.*"},
        "invocationId": {**_NULLABLE_STRING, "description": "set when the client called invoke()"},
        "target": _NULLABLE_STRING,
        "arguments": {"type": ["array", "null"], "description": "exactly the client's arguments"},
        "error": {**_NULLABLE_STRING, "description": "why a connection ended, on disconnected"},
        "receivedAt": {"type": "string", "format": "date-time"},
        "authenticatedBy": {"enum": ["signature", "identity"]},
        "application": {**_NULLABLE_STRING, "description": "SIGNALR_APPLICATION (lower case) the hub is in"},
        "tenant": {**_NULLABLE_STRING,
                   "description": "multi-tenant mode: the tenant (GUID) whose namespace the hub is in"},
    },
}
