"""One client connection: who it is and an ordered outbox drained by a single writer task.

Senders only enqueue (never await a socket), so one REST broadcast to thousands of clients
returns at once and a slow client delays nobody but itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from aiohttp import web

from . import protocol

# A client this far behind is dropped rather than buffered without bound.
MAX_OUTBOX = 10_000


@dataclass(frozen=True)
class _Close:
    error: str | None


@dataclass(eq=False)
class Connection:
    id: str
    hub: str
    user: str | None
    socket: web.WebSocketResponse
    outbox: asyncio.Queue[str | _Close] = field(default_factory=asyncio.Queue)
    last_sent: float = field(default_factory=time.monotonic)
    last_received: float = field(default_factory=time.monotonic)
    closing: bool = False

    def send(self, frame: str) -> None:
        if self.closing:
            return
        if self.outbox.qsize() >= MAX_OUTBOX:
            self.close("The client is too slow to receive messages.")
            return
        self.outbox.put_nowait(frame)

    def close(self, error: str | None = None) -> None:
        """Queue a Close message after whatever is already queued, then end the socket."""
        if self.closing:
            return
        self.closing = True
        self.outbox.put_nowait(_Close(error))

    async def run_writer(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                item = await self.outbox.get()
                if isinstance(item, _Close):
                    await self.socket.send_str(protocol.close(item.error))
                    await self.socket.close()
                    return
                await self.socket.send_str(item)
                self.last_sent = time.monotonic()
