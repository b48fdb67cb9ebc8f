"""Many SignalR clients in one event loop: negotiate, WebSocket, JSON hub protocol handshake.

Each client records, per invocation of ``tick(seq, side, sent_at)``, how long after
``sent_at`` (a ``time.perf_counter()`` value of this process) it arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import aiohttp
import jwt

RS = "\x1e"
HANDSHAKE = json.dumps({"protocol": "json", "version": 1}) + RS
PING = json.dumps({"type": 6}) + RS


def client_token(access_key: str, hub: str, user: str) -> str:
    now = int(time.time())
    claims = {"aud": f"http://127.0.0.1/client/?hub={hub}", "iat": now, "exp": now + 3600, "nameid": user}
    return jwt.encode(claims, access_key, algorithm="HS256")


class Client:
    def __init__(self, index: int) -> None:
        self.index = index
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, session: aiohttp.ClientSession, base_url: str, hub: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.post(f"{base_url}/client/negotiate", params={"hub": hub}, headers=headers) as answer:
            answer.raise_for_status()
            negotiation = await answer.json()
        ws_url = base_url.replace("http://", "ws://") + "/client/"
        self.socket = await session.ws_connect(ws_url, params={"hub": hub, "id": negotiation["connectionId"]},
                                               headers=headers, heartbeat=None)
        await self.socket.send_str(HANDSHAKE)
        reply = await asyncio.wait_for(self.socket.receive_str(), 10)
        if json.loads(reply.split(RS)[0]).get("error"):
            raise RuntimeError(f"handshake refused: {reply!r}")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.socket is not None
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            arrived = time.perf_counter()
            for record in message.data.split(RS):
                if not record:
                    continue
                frame = json.loads(record)
                if frame.get("type") == 1 and frame.get("target") == "tick":
                    _seq, side, sent_at = frame["arguments"]
                    self.latencies.setdefault(side, []).append(arrived - sent_at)
                elif frame.get("type") == 7:
                    self.errors.append(f"closed by the server: {frame.get('error')}")

    async def ping(self) -> None:
        if self.socket is not None and not self.socket.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.socket.send_str(PING)

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
                await asyncio.wait_for(self.socket.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
