"""Upstream calls, as the service makes them in serverless mode when an upstream is set.

One URL template (``{hub}``, ``{category}``, ``{event}``, each percent-encoded like
``Uri.EscapeDataString``); a POST per event with the ``X-ASRS-*`` headers and
``X-ASRS-Signature: sha256=<HEX>`` (HMAC-SHA256 of the connection id keyed with the access
key); message bodies in the client's hub protocol (``application/x-msgpack`` for MessagePack
clients), connection events always JSON. Sources: azure-docs ``articles/azure-signalr/
concept-upstream.md``; the official emulator, Azure/azure-signalr
``src/Microsoft.Azure.SignalR.Emulator/Upstreams/HttpUpstreamTrigger.cs`` and
``HubEmulator/HttpServerlessMessageHandler.cs`` (read, not copied).

For an invocation with an ``invocationId`` the answer becomes the client's Completion: 204
or an empty 200 → an empty Completion, a 200 body → relayed as it is (it must be a hub
protocol message), any other status → a Completion with ``Invocation failed, status code N``.
Per connection, events are posted one at a time, in order.

Managed-identity authentication (the service's upstream ``auth.type = ManagedIdentity``): with
``token_url`` and ``identity``, each call also carries ``Authorization: Bearer <token>`` for
that identity, fetched from the local identity provider's ``/dev/token`` (standing in for the
service's managed identity endpoint) and reused until half its lifetime has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from . import protocol
from .connection import Connection

_PLACEHOLDER = re.compile(r"\{(hub|category|event)\}")
MAX_RESPONSE = 16 * 1024 * 1024  # the official emulator's limit on an invocation's answer
OPEN_CONNECTION, CLOSE_CONNECTION = 10, 11  # serverless protocol message types


def signature(connection_id: str, access_key: str) -> str:
    digest = hmac.new(access_key.encode("utf-8"), connection_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return "sha256=" + digest.upper()


def claim_strings(claims: Mapping[str, Any]) -> list[str]:
    """``type: value`` per claim (``Claim.ToString()``), a list claim once per value.

    Every claim of the client's token, as the official emulator forwards ``user.Claims``
    (Azure/azure-signalr ``src/Microsoft.Azure.SignalR.Emulator/HubEmulator/
    HttpUpstreamPropertiesFeature.cs``): ``aud``, ``exp``, ``iat`` and ``asrs.*`` included. The
    claim types are the token's own names (not ASP.NET Core's inbound-mapped URIs).
    """
    strings = []
    for name, value in claims.items():
        for item in value if isinstance(value, list) else [value]:
            strings.append(f"{name}: {item}")
    return strings


def client_query(query: str) -> str:
    """The client's query string as the client sent it, as ``?a=b`` (empty when there is none).

    Raw, ``access_token``, ``id`` and ``hub`` included: the official emulator forwards
    ``Request.QueryString`` unchanged (Azure/azure-signalr ``src/Microsoft.Azure.SignalR.Emulator/
    HubEmulator/HttpUpstreamPropertiesFeature.cs``) and nothing documents that the service
    filters it, so the receiver must remove the token itself (functions/upstream/events.py).
    """
    return "?" + query if query else ""


class Upstream:
    """Posts a hub's client events to the app's upstream URL."""

    def __init__(self, template: str, access_key: str, timeout: float = 30.0, *, token_url: str | None = None,
                 identity: str | None = None) -> None:
        if not template.startswith(("http://", "https://")):
            raise ValueError("the upstream URL template must be an absolute http(s) URL")
        if bool(token_url) != bool(identity):
            raise ValueError("token_url and identity go together")
        self.template = template
        self.access_key = access_key
        self.token_url = token_url
        self.identity = identity
        self._token: tuple[str, float] | None = None
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self.failures = 0  # posts that got no 2xx (tests and the log read it)

    def url(self, hub: str, category: str, event: str) -> str:
        values = {"hub": hub, "category": category, "event": event}
        return _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe=""), self.template)

    def headers(self, connection: Connection, category: str, event: str) -> dict[str, str]:
        # Messages go in the client's protocol, connection events always as JSON (the official
        # emulator's HttpServerlessMessageHandler.cs).
        messagepack = connection.messagepack and category == "messages"
        headers = {"X-ASRS-Connection-Id": connection.id, "X-ASRS-Hub": connection.hub,
                   "X-ASRS-Category": category, "X-ASRS-Event": event,
                   "X-ASRS-Signature": signature(connection.id, self.access_key),
                   "Content-Type": "application/x-msgpack" if messagepack else "application/json"}
        if connection.user:
            headers["X-ASRS-User-Id"] = connection.user
        if connection.claims:
            headers["X-ASRS-User-Claims"] = ", ".join(connection.claims)
        if connection.query:
            headers["X-ASRS-Client-Query"] = connection.query
        return headers

    async def _bearer(self, session: aiohttp.ClientSession) -> str:
        """A token of the service's identity for the upstream (cached for half its hour)."""
        if self._token is None or self._token[1] < time.monotonic():
            async with session.post(self.token_url, json={"user": self.identity, "roles": []}) as response:
                response.raise_for_status()
                token = (await response.json())["access_token"]
            self._token = (token, time.monotonic() + 1800)
        return self._token[0]

    async def _post(self, connection: Connection, category: str, event: str, body: bytes) -> tuple[int, bytes]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        headers = self.headers(connection, category, event)
        try:
            if self.token_url:
                headers["Authorization"] = f"Bearer {await self._bearer(self._session)}"
            async with self._session.post(self.url(connection.hub, category, event), data=body,
                                          headers=headers) as response:
                answer = await response.content.read(MAX_RESPONSE + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status, answer = 500, b""  # as the official emulator: an unreachable upstream is a 500
        if status not in (200, 204):
            self.failures += 1
        return status, answer

    async def connected(self, connection: Connection) -> None:
        await self._post(connection, "connections", "connected", json.dumps({"type": OPEN_CONNECTION}).encode())

    async def disconnected(self, connection: Connection, error: str | None) -> None:
        message: dict[str, Any] = {"type": CLOSE_CONNECTION}
        if error:
            message["error"] = error
        await self._post(connection, "connections", "disconnected", json.dumps(message).encode())

    async def invoke(self, connection: Connection, record: str | bytes, message: Mapping[str, Any]) -> None:
        """Post the client's Invocation (a JSON record, or a length-prefixed MessagePack message as
        the client sent it); answer an ``invoke`` with the upstream's Completion."""
        target = message.get("target")
        if not isinstance(target, str) or not target:
            raise protocol.ProtocolError("an Invocation needs a target")
        body = record if isinstance(record, bytes) else (record + protocol.RECORD_SEPARATOR).encode("utf-8")
        status, answer = await self._post(connection, "messages", target, body)
        invocation_id = message.get("invocationId")
        if not isinstance(invocation_id, str):
            return
        if status == 204 or (status == 200 and not answer):
            connection.send(protocol.completion(invocation_id))
        elif status == 200 and len(answer) > MAX_RESPONSE:
            connection.send(protocol.completion(invocation_id, "Invocation failed, response too large."))
        elif status == 200 and connection.messagepack:
            connection.send(answer)  # already MessagePack protocol messages, relayed as they are
        elif status == 200:
            text = answer.decode("utf-8", errors="replace")
            connection.send(text if text.endswith(protocol.RECORD_SEPARATOR) else text + protocol.RECORD_SEPARATOR)
        else:
            connection.send(protocol.completion(invocation_id, f"Invocation failed, status code {status}"))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
