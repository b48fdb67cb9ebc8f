"""The client side of the service: negotiate, then a WebSocket speaking the JSON or the
MessagePack hub protocol (the handshake names it; the handshake itself is JSON either way).

``POST /client/negotiate?hub=`` answers as ``TransportProtocols.md`` describes (version 0
when the client does not ask for 1, as signalrcore does not). ``GET /client/?hub=&id=``
upgrades to the WebSocket; without ``id`` it connects directly, like the service does for
clients that skip negotiation (signalrcore after a ``{url, accessToken}`` redirect).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass

from aiohttp import WSMessage, WSMsgType, web

from . import auth, protocol, upstream
from .connection import Connection
from .emulator import Emulator, Negotiation
from .names import valid_hub

EMULATOR = web.AppKey("emulator", Emulator)

TRANSPORTS = [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}]
SERVERLESS_CLOSE = "Invocation from clients is not supported: the service is in serverless mode."


def _client_token(request: web.Request) -> str | None:
    # Browsers cannot set headers on a WebSocket, so the token may come in the query.
    return auth.bearer_token(request.headers.get("Authorization")) or request.query.get("access_token")


def _authenticate(request: web.Request, emulator: Emulator) -> tuple[str, dict]:
    hub = request.query.get("hub", "")
    if not valid_hub(hub):
        raise web.HTTPBadRequest(text="Invalid or missing 'hub' in the query.")
    audience = auth.client_audience(request.scheme, request.host, hub)
    try:
        claims = auth.verify(_client_token(request), emulator.access_key, audience, case_sensitive=False)
    except auth.TokenRejected as e:
        raise web.HTTPUnauthorized(text=str(e), headers={"WWW-Authenticate": "Bearer"}) from e
    return hub.lower(), claims


async def negotiate(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR]
    hub, claims = _authenticate(request, emulator)
    user = auth.user_id(claims)
    try:
        version = int(request.query.get("negotiateVersion", "0"))
    except ValueError as e:
        raise web.HTTPBadRequest(text="Invalid 'negotiateVersion'.") from e
    connection_id, token = emulator.negotiate(hub, user, separate_token=version >= 1)
    body: dict[str, object] = {"negotiateVersion": 1 if version >= 1 else 0, "connectionId": connection_id}
    if version >= 1:
        body["connectionToken"] = token
    body["availableTransports"] = TRANSPORTS
    return web.json_response(body)


async def websocket(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    hub_name, claims = _authenticate(request, emulator)
    user = auth.user_id(claims)
    token = request.query.get("id")
    if token is None:
        negotiation = Negotiation(secrets.token_urlsafe(16), hub_name, user, time.monotonic())
    else:
        found = emulator.negotiations.get(token)
        if found is None or found.hub != hub_name:
            raise web.HTTPNotFound(text="No Connection with that ID")
        if found.in_use:
            raise web.HTTPConflict(text="Another connection is already using this ID")
        negotiation = found
    socket = web.WebSocketResponse(max_msg_size=1024 * 1024)
    if not socket.can_prepare(request).ok:
        raise web.HTTPBadRequest(text="Only the WebSockets transport is available.")
    negotiation.in_use = True
    try:
        await socket.prepare(request)
        await _serve(emulator, socket, negotiation, ClientFacts(request.query_string, claims))
    finally:
        if token is not None:
            emulator.negotiations.pop(token, None)
    return socket


@dataclass(frozen=True)
class ClientFacts:
    """What the upstream calls tell about a client: its query string and its token's claims."""

    query: str
    claims: dict


async def _serve(emulator: Emulator, socket: web.WebSocketResponse, negotiation: Negotiation,
                 facts: ClientFacts) -> None:
    reader = protocol.RecordReader()
    try:
        pending = await asyncio.wait_for(_handshake(socket, reader), emulator.timings.handshake_timeout)
    except (TimeoutError, protocol.ProtocolError) as e:
        if isinstance(e, protocol.ProtocolError):
            await socket.send_str(protocol.handshake_error(str(e)))
        await socket.close()
        return
    if pending is None:
        await socket.close()
        return

    records, messagepack = pending
    hub = emulator.hub(negotiation.hub)
    connection = Connection(negotiation.connection_id, hub.name, negotiation.user, socket,
                            query=upstream.client_query(facts.query),
                            claims=tuple(upstream.claim_strings(facts.claims)), messagepack=messagepack)
    hub.add(connection)
    writer = asyncio.create_task(connection.run_writer())
    error: str | None = None
    try:
        if emulator.upstream is not None:
            await emulator.upstream.connected(connection)
        if await _handle(emulator, connection, [(protocol.parse_message(r), r) for r in records]):
            async for message in socket:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                connection.last_received = time.monotonic()
                if messagepack:
                    data = message.data if isinstance(message.data, bytes) else message.data.encode("utf-8")
                    parsed: list[tuple[dict, str | bytes]] = list(protocol.parse_messagepack(data))
                else:
                    parsed = [(protocol.parse_message(r), r) for r in reader.feed(_text_of(message) or "")]
                if not await _handle(emulator, connection, parsed):
                    break
    except protocol.ProtocolError as e:
        error = f"Connection closed with an error. {e}"
        connection.close(error)
    finally:
        hub.remove(connection.id)
        connection.close()
        if emulator.upstream is not None:
            await emulator.upstream.disconnected(connection, error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(writer), 2.0)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await socket.close()


def _text_of(message: WSMessage) -> str | None:
    """The text a frame carries (JSON protocol records), or None when the peer closed or failed."""
    if message.type == WSMsgType.TEXT:
        return message.data
    if message.type == WSMsgType.BINARY:
        return message.data.decode("utf-8", errors="replace")
    return None


async def _handshake(socket: web.WebSocketResponse,
                     reader: protocol.RecordReader) -> tuple[list[str], bool] | None:
    """Read the handshake; returns the JSON records that followed it and whether the client speaks
    MessagePack, or None if the peer left."""
    async for message in socket:
        chunk = _text_of(message)
        if chunk is None:
            return None
        records = reader.feed(chunk)
        if not records:
            continue
        handshake = protocol.parse_handshake(records[0])
        highest = {"json": protocol.MAX_JSON_VERSION, protocol.MESSAGEPACK: protocol.MAX_MESSAGEPACK_VERSION}
        if handshake.protocol not in highest:
            raise protocol.ProtocolError(f"The protocol '{handshake.protocol}' is not supported.")
        if not 0 <= handshake.version <= highest[handshake.protocol]:
            raise protocol.ProtocolError(
                f"The server does not support version {handshake.version} of the '{handshake.protocol}' protocol."
            )
        await socket.send_str(protocol.HANDSHAKE_OK)
        messagepack = handshake.protocol == protocol.MESSAGEPACK
        return ([] if messagepack else records[1:]), messagepack
    return None


async def _handle(emulator: Emulator, connection: Connection, messages: list[tuple[dict, str | bytes]]) -> bool:
    """Act on client messages (each parsed, and as the client sent it); False once the connection should end."""
    for message, record in messages:
        kind = message.get("type")
        if kind == protocol.CLOSE:
            return False
        if kind == protocol.INVOCATION and emulator.upstream is not None:
            await emulator.upstream.invoke(connection, record, message)  # in order, one at a time
            continue
        if kind in (protocol.INVOCATION, protocol.STREAM_INVOCATION):
            connection.close(SERVERLESS_CLOSE)
            return False
        if kind == protocol.COMPLETION:
            connection.complete(message)  # a client result asked for by REST :invoke
        # Pings only refresh last_received; acks and the rest need no answer here.
    return True
