"""Run the emulator on its own event loop in a background thread (for tests and the devstack)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web

from devstack.constants import DEV_ACCESS_KEY

from .app import create_app
from .client_endpoint import EMULATOR
from .emulator import Emulator, Timings
from .entra_auth import EntraTrust

T = TypeVar("T")


class EmulatorServer:
    """``start()`` returns once the socket listens; ``stop()`` closes every client and joins."""

    def __init__(
        self,
        access_key: str = DEV_ACCESS_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        timings: Timings | None = None,
        entra: EntraTrust | None = None,
        upstream_template: str | None = None,
        upstream_identity: tuple[str, str] | None = None,
    ) -> None:
        self.access_key = access_key
        self.upstream_template = upstream_template
        self.upstream_identity = upstream_identity  # (token URL, identity): managed-identity upstream
        self.host = host
        self._requested_port = port
        self._timings = timings
        self._entra = entra
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopped: asyncio.Event | None = None
        self._emulator: Emulator | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def connection_string(self) -> str:
        return f"Endpoint=http://{self.host};Port={self.port};AccessKey={self.access_key};Version=1.0;"

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        ready: Future[int] = Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="signalr-emulator", daemon=True)
        self._thread.start()
        self.port = ready.result(timeout)
        return self

    def _run(self, ready: Future[int]) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(ready))
        except Exception as e:  # surface startup failures (port in use) to start()
            if not ready.done():
                ready.set_exception(e)
        finally:
            loop.close()

    async def _serve(self, ready: Future[int]) -> None:
        app = create_app(self.access_key, self._timings, self._entra, self.upstream_template,
                         self.upstream_identity)
        self._emulator = app[EMULATOR]
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self._stopped = asyncio.Event()
        sockets = site._server.sockets if site._server else ()  # type: ignore[union-attr]
        ready.set_result(sockets[0].getsockname()[1])
        await self._stopped.wait()
        await self._runner.cleanup()

    def call(self, fn: Callable[[Emulator], T], timeout: float = 5.0) -> T:
        """Run ``fn(emulator)`` on the server's loop, where the state lives."""
        if self._loop is None or self._emulator is None:
            raise RuntimeError("the emulator is not running")
        emulator = self._emulator

        async def run() -> T:
            return fn(emulator)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def state(self) -> dict[str, Any]:
        return self.call(lambda e: e.snapshot())

    def requests(self) -> list[dict[str, Any]]:
        return self.call(lambda e: [r.as_dict() for r in e.requests])

    def stop(self, timeout: float = 10.0) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
