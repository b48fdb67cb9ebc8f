"""LocalHost: the function app served over HTTP and fed from Storage queues, in one object.

``start()`` loads local settings into the environment, reads host.json, imports and indexes
the app once, then runs an event loop in a background thread with the HTTP server and one
listener per queue trigger; it returns once the port is bound and the listeners run.
``stop()`` stops the listeners, waits (bounded) for in-flight invocations and closes
everything. A queue function whose connection or queue name cannot be resolved is logged
and left out (the Functions host marks it in error and keeps serving the rest); see
``errors``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web

from devstack.host.config import HostConfig, apply_settings, read_host_json, read_local_settings
from devstack.host.cors import CorsPolicy
from devstack.host.http_server import HttpFrontEnd, HttpLimits, Router, StaticFiles
from devstack.host.invoker import Invoker, default_thread_count
from devstack.host.loader import FunctionSpec, HttpTriggerSpec, QueueTriggerSpec, load_app
from devstack.host.queue_clients import BindingError, QueueConnections, resolve_queue_name
from devstack.host.queue_listener import QueueListener

log = logging.getLogger("devstack.host")


class LocalHost:
    def __init__(
        self,
        app_module: str = "function_app",
        app_dir: Path = Path("."),
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
        settings_file: Path | None = None,
        static_dir: Path | None = None,
        static_files: dict[str, Path] | None = None,
        limits: HttpLimits | None = None,
        shutdown_timeout: float = 30.0,
    ) -> None:
        self.app_module = app_module
        self.app_dir = Path(app_dir).resolve()
        self.host = host
        self._requested_port = port
        self.settings_file = settings_file
        self._static = StaticFiles(static_dir, static_files)
        self._limits = limits or HttpLimits()
        self._shutdown_timeout = shutdown_timeout
        self.config = HostConfig()
        self.functions: list[FunctionSpec] = []
        self.listeners: dict[str, QueueListener] = {}
        self.errors: dict[str, str] = {}
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._module_name: str | None = None
        self._added_path = False
        self._cors = CorsPolicy()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the host is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LocalHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            raise RuntimeError("the host is already started")
        if self.settings_file is not None:
            local_settings = read_local_settings(self.settings_file)
            self._cors = local_settings.cors
            apply_settings(local_settings.values)
        self.config = read_host_json(self.app_dir)
        if str(self.app_dir) not in sys.path:
            sys.path.insert(0, str(self.app_dir))  # the worker puts the script root on sys.path
            self._added_path = True
        try:
            loaded = load_app(self.app_dir, self.app_module)
        except BaseException:
            self._forget_app()
            raise
        self._module_name = loaded.module_name
        self.functions = loaded.functions
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._run_loop, args=(started,), name="devstack-host", daemon=True
        )
        self._thread.start()
        started.wait(timeout)
        try:
            asyncio.run_coroutine_threadsafe(self._startup(), self._loop).result(timeout)
        except BaseException:
            self.stop()
            raise

    def _run_loop(self, started: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(started.set)
        self._loop.run_forever()

    async def _startup(self) -> None:
        self._executor = ThreadPoolExecutor(default_thread_count(), thread_name_prefix="func-worker")
        self._connections = QueueConnections()
        invoker = Invoker(self._executor, self._connections, self.config.queues, str(self.app_dir))
        router = Router(self.config.route_prefix, self.functions)
        front = HttpFrontEnd(router, invoker, self._static, self._limits, self._cors)
        self._runner = web.AppRunner(
            front.application(),
            access_log=None,
            shutdown_timeout=self._shutdown_timeout,
            # Large enough that oversized headers reach our own 431/414 checks (Kestrel's statuses).
            max_line_size=1024 * 1024,
            max_field_size=1024 * 1024,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server else ()  # type: ignore[union-attr]
        self._port = sockets[0].getsockname()[1]
        self._listener_tasks: list[asyncio.Task[None]] = []
        for spec in self.functions:
            if isinstance(spec.trigger, QueueTriggerSpec):
                self._start_listener(spec, invoker)
        for spec in self.functions:
            log.debug("Function %s: %s", spec.name, self.describe(spec))  # the CLI prints the list once

    def _start_listener(self, spec: FunctionSpec, invoker: Invoker) -> None:
        trigger: QueueTriggerSpec = spec.trigger  # type: ignore[assignment]
        try:
            name = resolve_queue_name(trigger.queue_name)
            queue = self._connections.queue(trigger.connection, name)
            poison = self._connections.queue(trigger.connection, f"{name}-poison")
        except (BindingError, ValueError) as e:
            self.errors[spec.name] = str(e)
            log.error("Function %s is in error and will not run: %s", spec.name, e)
            return
        listener = QueueListener(spec, queue, poison, self.config.queues, invoker)
        self.listeners[spec.name] = listener
        self._listener_tasks.append(asyncio.create_task(listener.run(), name=f"queue:{spec.name}"))

    def describe(self, spec: FunctionSpec) -> str:
        if isinstance(spec.trigger, HttpTriggerSpec):
            methods = ",".join(sorted(spec.trigger.methods)) if spec.trigger.methods else "*"
            prefix = f"/{self.config.route_prefix}" if self.config.route_prefix else ""
            route = spec.trigger.route.text.strip("/")
            return f"[{methods}] {self.base_url}{prefix}/{route}"
        if spec.name in self.listeners:
            return f"queueTrigger on '{self.listeners[spec.name].queue_name}'"
        return f"queueTrigger in error: {self.errors.get(spec.name)}"

    async def _shutdown(self) -> None:
        listeners = list(self.listeners.values())
        for listener in listeners:
            await listener.stop(self._shutdown_timeout)
        for task in getattr(self, "_listener_tasks", []):
            task.cancel()
        await asyncio.gather(*getattr(self, "_listener_tasks", []), return_exceptions=True)
        if getattr(self, "_runner", None) is not None:
            await self._runner.cleanup()  # waits for in-flight requests up to shutdown_timeout
        if getattr(self, "_connections", None) is not None:
            await self._connections.close()
        if getattr(self, "_executor", None) is not None:
            # Nothing should be running by now; the bound keeps a stuck function from hanging stop().
            shutdown = asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
            try:
                await asyncio.wait_for(shutdown, self._shutdown_timeout)
            except TimeoutError:
                log.warning("Some function threads were still running at shutdown")
        await asyncio.get_running_loop().shutdown_default_executor()

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if loop.is_running():
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(self._shutdown_timeout * 3)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            if not loop.is_running():
                loop.close()
            self._loop = self._thread = None
            self._port = None
            self._forget_app()

    def _forget_app(self) -> None:
        if self._module_name:
            sys.modules.pop(self._module_name, None)
            self._module_name = None
        if self._added_path:
            try:
                sys.path.remove(str(self.app_dir))
            except ValueError:
                pass
            self._added_path = False
