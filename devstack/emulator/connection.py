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
    query: str = ""  # the client's own query (``?a=b``), for upstream calls
    claims: tuple[str, ...] = ()  # ``type: value`` strings of the client token's user claims
    messagepack: bool = False  # the client's hub protocol: JSON frames are re-encoded for it
    outbox: asyncio.Queue[str | bytes | _Close] = field(default_factory=asyncio.Queue)
    last_sent: float = field(default_factory=time.monotonic)
    last_received: float = field(default_factory=time.monotonic)
    closing: bool = False
    # Client results: invocation id -> the future the REST :invoke call awaits.
    pending: dict[str, asyncio.Future[dict]] = field(default_factory=dict)
    _next_invocation: int = 0

    def invoke(self, target: str, arguments: list) -> asyncio.Future[dict]:
        """Send an Invocation that expects a Completion; the future resolves with that message."""
        self._next_invocation += 1
        invocation_id = str(self._next_invocation)
        future: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.pending[invocation_id] = future
        self.send(protocol.invocation(target, arguments, invocation_id))
        return future

    def complete(self, message: dict) -> None:
        """A Completion from the client: hand it to the waiting :invoke call (unknown ids are ignored)."""
        invocation_id = message.get("invocationId")
        future = self.pending.pop(invocation_id, None) if isinstance(invocation_id, str) else None
        if future is not None and not future.done():
            future.set_result(message)

    def forget(self, invocation_id: str) -> None:
        self.pending.pop(invocation_id, None)

    def send(self, frame: str | bytes) -> None:
        if self.closing:
            return
        if self.messagepack and isinstance(frame, str):
            frame = protocol.to_messagepack(frame)
        if self.outbox.qsize() >= MAX_OUTBOX:
            self.close("The client is too slow to receive messages.")
            return
        self.outbox.put_nowait(frame)

    def close(self, error: str | None = None) -> None:
        """Queue a Close message after whatever is already queued, then end the socket."""
        if self.closing:
            return
        self.closing = True
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionResetError("the connection closed"))
        self.pending.clear()
        self.outbox.put_nowait(_Close(error))

    async def run_writer(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                item = await self.outbox.get()
                if isinstance(item, _Close):
                    close = protocol.close(item.error)
                    if self.messagepack:
                        await self.socket.send_bytes(protocol.to_messagepack(close))
                    else:
                        await self.socket.send_str(close)
                    await self.socket.close()
                    return
                if isinstance(item, bytes):
                    await self.socket.send_bytes(item)
                else:
                    await self.socket.send_str(item)
                self.last_sent = time.monotonic()
