"""Queue trigger listener with the Storage queue extension's semantics.

- Fetch up to ``batchSize`` messages (10-minute visibility while processing); fetch again
  once no more than ``newBatchThreshold`` are still running, so at most
  batchSize + newBatchThreshold run at once per function.
- Success deletes the message. Failure with ``dequeue_count >= maxDequeueCount`` copies the
  original message text to ``<queue>-poison`` (created if missing) and deletes it; otherwise
  the message becomes visible again after ``visibilityTimeout``.
- A message that is not valid base64 under ``messageEncoding: base64`` goes to the poison
  queue at once without running the function (the extension's decoding-failure handler).
- An empty (or missing) queue backs the polling interval off exponentially from 100 ms up to
  ``maxPollingInterval``; a message resets it.
"""

from __future__ import annotations

import asyncio
import logging

import azure.functions.queue as func_queue
from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.queue import QueueMessage as StorageMessage
from azure.storage.queue.aio import QueueClient

from devstack.host.config import QueueOptions
from devstack.host.invoker import Invoker
from devstack.host.loader import FunctionSpec, QueueTriggerSpec
from devstack.host.queue_clients import decode_message, send_creating_queue

log = logging.getLogger("devstack.host")

MIN_POLLING_INTERVAL = 0.1
PROCESSING_VISIBILITY = 600  # seconds; the extension also hides messages for 10 minutes


class QueueListener:
    def __init__(
        self,
        spec: FunctionSpec,
        queue: QueueClient,
        poison: QueueClient,
        options: QueueOptions,
        invoker: Invoker,
    ) -> None:
        assert isinstance(spec.trigger, QueueTriggerSpec)
        self._spec = spec
        self._trigger: QueueTriggerSpec = spec.trigger
        self._queue = queue
        self._poison = poison
        self._options = options
        self._invoker = invoker
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self.max_in_flight = 0  # observed peak, for tests and diagnostics

    @property
    def queue_name(self) -> str:
        return self._queue.queue_name

    async def run(self) -> None:
        delay = MIN_POLLING_INTERVAL
        stop_waiter = asyncio.ensure_future(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                messages = await self._receive()
                if not messages:
                    await self._sleep(delay)
                    delay = min(delay * 2, self._options.max_polling_interval)
                    continue
                delay = MIN_POLLING_INTERVAL
                for message in messages:
                    task = asyncio.create_task(self._process(message))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
                self.max_in_flight = max(self.max_in_flight, len(self._in_flight))
                while (
                    len(self._in_flight) > self._options.new_batch_threshold and not self._stopping.is_set()
                ):
                    await asyncio.wait([*self._in_flight, stop_waiter], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_waiter.cancel()

    async def stop(self, timeout: float) -> None:
        """Stop fetching and wait (bounded) for in-flight messages to finish."""
        self._stopping.set()
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), timeout=timeout)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def _receive(self) -> list[StorageMessage]:
        size = self._options.batch_size
        try:
            pages = self._queue.receive_messages(
                messages_per_page=size, max_messages=size, visibility_timeout=PROCESSING_VISIBILITY
            )
            return [m async for m in pages]
        except ResourceNotFoundError:
            return []  # the host waits for a missing trigger queue rather than creating it
        except AzureError as e:
            log.warning("Polling queue '%s' failed: %s", self.queue_name, type(e).__name__)
            return []

    async def _process(self, message: StorageMessage) -> None:
        try:
            body = decode_message(message.content or "", self._options.message_encoding)
        except ValueError:
            log.error(
                "Message '%s' on queue '%s' is not valid base64 (messageEncoding is base64); "
                "moving it to '%s'.",
                message.id,
                self.queue_name,
                self._poison.queue_name,
            )
            await self._move_to_poison(message)
            return
        if message.dequeue_count > self._options.max_dequeue_count:
            await self._move_to_poison(message)
            return
        try:
            reason = f"New queue message detected on '{self.queue_name}'."
            await self._invoker.invoke(self._spec, self._argument(message, body), reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Function '%s' failed for message '%s'", self._spec.name, message.id)
            await self._after_failure(message)
            return
        await self._storage_call(self._queue.delete_message(message.id, message.pop_receipt), "delete")

    def _argument(self, message: StorageMessage, body: bytes) -> object:
        if self._trigger.body_type == "bytes":
            return body
        if self._trigger.body_type == "str":
            return body.decode("utf-8")
        return func_queue.QueueMessage(
            id=message.id,
            body=body,
            pop_receipt=message.pop_receipt,
            dequeue_count=message.dequeue_count,
            insertion_time=message.inserted_on,
            expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on,
        )

    async def _after_failure(self, message: StorageMessage) -> None:
        if message.dequeue_count >= self._options.max_dequeue_count:
            await self._move_to_poison(message)
            return
        visibility = int(round(self._options.visibility_timeout))
        await self._storage_call(
            self._queue.update_message(message.id, message.pop_receipt, visibility_timeout=visibility),
            "release",
        )

    async def _move_to_poison(self, message: StorageMessage) -> None:
        log.warning(
            "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            self._options.max_dequeue_count,
            self._poison.queue_name,
        )
        try:
            await send_creating_queue(self._poison, message.content or "")
        except AzureError as e:
            log.error("Could not copy message '%s' to '%s': %s", message.id, self._poison.queue_name, e)
            return
        await self._storage_call(self._queue.delete_message(message.id, message.pop_receipt), "delete")

    async def _storage_call(self, call: object, what: str) -> None:
        try:
            await call  # type: ignore[misc]
        except AzureError as e:
            log.warning("Could not %s a message on '%s': %s", what, self.queue_name, type(e).__name__)
