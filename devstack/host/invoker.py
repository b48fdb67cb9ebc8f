"""Run one function invocation the way the Python worker does.

Sync functions run in a thread pool (``PYTHON_THREADPOOL_THREAD_COUNT``, default
``min(32, cpu + 4)``), ``async def`` functions are awaited on the host's event loop. Output
bindings are ``func.Out`` objects passed by parameter name (or the return value for
``$return``); queue outputs are sent only after the function succeeded, as the host does.
A parameter named ``context`` receives a small ``func.Context``.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextvars
import functools
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import azure.functions as func

from devstack.host.config import QueueOptions
from devstack.host.loader import FunctionSpec, QueueOutputSpec
from devstack.host.queue_clients import (
    QueueConnections,
    encode_message,
    resolve_queue_name,
    send_creating_queue,
)

log = logging.getLogger("devstack.host")
T = TypeVar("T")


class OutValue(func.Out[T], Generic[T]):
    """The worker's Out: holds what the function set."""

    def __init__(self) -> None:
        self._value: T | None = None

    def set(self, val: T) -> None:
        self._value = val

    def get(self) -> T:
        return self._value  # type: ignore[return-value]


class InvocationContext(func.Context):
    def __init__(self, function_name: str, function_directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def thread_local_storage(self) -> Any:
        return None

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


def default_thread_count() -> int:
    configured = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(32, (os.cpu_count() or 1) + 4)


def queue_texts(value: Any) -> list[str | bytes]:
    """What a queue output value becomes, per azure.functions' QueueMessageOutConverter."""
    if isinstance(value, str | bytes):
        return [value]
    if isinstance(value, func.QueueMessage):
        return [value.get_body().decode("utf-8")]
    if isinstance(value, collections.abc.Iterable) and not isinstance(value, collections.abc.Mapping):
        items: list[str | bytes] = []
        for item in value:
            if isinstance(item, str):
                items.append(item)
            elif isinstance(item, func.QueueMessage):
                items.append(item.get_body().decode("utf-8"))
            else:
                raise TypeError(f"invalid data type in output queue message list: {type(item)}")
        return items
    raise TypeError(f"unsupported queue output value: {type(value)}")


class Invoker:
    def __init__(
        self,
        executor: ThreadPoolExecutor,
        connections: QueueConnections,
        queue_options: QueueOptions,
        function_directory: str,
    ) -> None:
        self._executor = executor
        self._connections = connections
        self._encoding = queue_options.message_encoding
        self._function_directory = function_directory

    async def invoke(self, spec: FunctionSpec, trigger_value: Any, reason: str) -> tuple[Any, dict[str, Any]]:
        """Run the function; returns its return value and the values of its Out parameters.

        Raises whatever the function raised; outputs are sent only on success.
        """
        kwargs: dict[str, Any] = {spec.trigger.arg_name: trigger_value}
        outs: dict[str, OutValue[Any]] = {}
        out_names = [o.arg_name for o in spec.queue_outputs]
        http_out = getattr(spec.trigger, "output_name", None)
        if http_out:
            out_names.append(http_out)
        for name in out_names:
            if name != "$return":
                outs[name] = kwargs[name] = OutValue()
        if spec.wants_context:
            kwargs["context"] = InvocationContext(spec.name, self._function_directory)
        started = time.monotonic()
        log.debug("Executing 'Functions.%s' (Reason='%s')", spec.name, reason)
        try:
            if spec.is_async:
                result = await spec.func(**kwargs)
            else:
                loop = asyncio.get_running_loop()
                call = functools.partial(contextvars.copy_context().run, spec.func, **kwargs)
                result = await loop.run_in_executor(self._executor, call)
            values = {name: out.get() for name, out in outs.items()}
            for output in spec.queue_outputs:
                value = result if output.arg_name == "$return" else values[output.arg_name]
                if value is not None:
                    await self._send(output, value)
        except BaseException:
            log.warning("Executed 'Functions.%s' (Failed, Duration=%dms)", spec.name, _ms(started))
            raise
        # One line per request is the HTTP server's; a queued message gets the app's own line.
        log.debug("Executed 'Functions.%s' (Succeeded, Duration=%dms)", spec.name, _ms(started))
        return result, values

    async def _send(self, output: QueueOutputSpec, value: Any) -> None:
        client = self._connections.queue(output.connection, resolve_queue_name(output.queue_name))
        for item in queue_texts(value):
            await send_creating_queue(client, encode_message(item, self._encoding))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
