"""The emulator's whole state: hubs, negotiated-but-not-yet-connected clients, request log."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from functions.auth.ttl_cache import TTLCache

from . import protocol
from .entra_auth import EntraTrust
from .hub_state import Hub
from .upstream import Upstream


@dataclass(frozen=True)
class Timings:
    """Protocol timers; defaults are the service's, tests shorten them."""

    keep_alive: float = 15.0  # server ping when nothing else was sent for this long
    client_timeout: float = 30.0  # close when the client has been silent this long
    handshake_timeout: float = 15.0
    negotiation_lifetime: float = 60.0  # a negotiated id must be used within this
    invoke_timeout: float = 8.0  # :invoke waits this long for the client's Completion (under the facade's 10 s)


@dataclass
class Negotiation:
    connection_id: str
    hub: str
    user: str | None
    expires: float
    in_use: bool = False


@dataclass
class RequestRecord:
    method: str
    path: str  # raw, still percent-encoded, without the query
    query: str
    status: int = 0
    at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "query": self.query, "status": self.status,
                "at": self.at}


class Emulator:
    def __init__(
        self, access_key: str, timings: Timings | None = None, max_log: int = 10_000, entra: EntraTrust | None = None,
        upstream_template: str | None = None, upstream_identity: tuple[str, str] | None = None,
    ) -> None:
        if not access_key:
            raise ValueError("an access key is required")
        self.access_key = access_key
        self.entra = entra  # None: AccessKey tokens only
        # AccessKey tokens already verified for a URL, until they expire: senders reuse one token
        # per URL, and checking its HMAC once rather than per request keeps the emulator's CPU
        # (which shares the machine with what is measured) for the service's work.
        self.verified_tokens: TTLCache[tuple[str, str], bool] = TTLCache(maxsize=4096)
        self.timings = timings or Timings()
        self.hubs: dict[str, Hub] = {}
        self.negotiations: dict[str, Negotiation] = {}
        self.requests: deque[RequestRecord] = deque(maxlen=max_log)
        self._ticker: asyncio.Task[None] | None = None
        # Serverless upstream: client events are POSTed here; without it an invoking client is closed.
        # upstream_identity: (token URL, identity) when the upstream authenticates with a managed identity.
        token_url, identity = upstream_identity or (None, None)
        self.upstream = (Upstream(upstream_template, access_key, token_url=token_url, identity=identity)
                         if upstream_template else None)

    def hub(self, name: str) -> Hub:
        key = name.lower()  # hub names are case-insensitive
        hub = self.hubs.get(key)
        if hub is None:
            hub = self.hubs[key] = Hub(key)
        return hub

    def negotiate(self, hub: str, user: str | None, separate_token: bool = True) -> tuple[str, str]:
        """Reserve a connection id; returns (connection id, connection token).

        Negotiate version 0 has no separate token: the id itself goes in the WebSocket URL.
        """
        self._forget_stale_negotiations()
        connection_id = secrets.token_urlsafe(16)
        token = secrets.token_urlsafe(24) if separate_token else connection_id
        expires = time.monotonic() + self.timings.negotiation_lifetime
        self.negotiations[token] = Negotiation(connection_id, hub.lower(), user, expires)
        return connection_id, token

    def _forget_stale_negotiations(self) -> None:
        now = time.monotonic()
        for token, negotiation in list(self.negotiations.items()):
            if not negotiation.in_use and negotiation.expires < now:
                del self.negotiations[token]

    def snapshot(self) -> dict[str, Any]:
        return {"hubs": {name: hub.snapshot() for name, hub in sorted(self.hubs.items())}}

    # keep-alive --------------------------------------------------------------------------

    async def start(self) -> None:
        self._ticker = asyncio.create_task(self._tick_forever())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for hub in self.hubs.values():
            for connection in list(hub.connections.values()):
                connection.close("The server is shutting down.")
        if self.upstream is not None:
            await self.upstream.close()

    async def _tick_forever(self) -> None:
        # One ticker for all connections instead of a timer per socket.
        interval = max(0.05, min(1.0, self.timings.keep_alive / 3))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for hub in self.hubs.values():
                for connection in list(hub.connections.values()):
                    if now - connection.last_received > self.timings.client_timeout:
                        hub.remove(connection.id)
                        connection.close("Connection timed out: no message from the client.")
                    elif now - connection.last_sent >= self.timings.keep_alive and connection.outbox.empty():
                        connection.last_sent = now
                        connection.send(protocol.PING_FRAME)
