"""Helpers for the local host's tests: exact raw HTTP requests and a sync queue client."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import QueueClient

from devstack.host import LocalHost

HERE = Path(__file__).parent
SAMPLE_APP = HERE / "sample_app"
STATIC_DIR = HERE / "static"


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> dict:
        return json.loads(self.body)


def raw_request(
    host: LocalHost,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> RawResponse:
    """One request with the path sent exactly as given (no client-side re-encoding)."""
    conn = http.client.HTTPConnection("127.0.0.1", host.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return RawResponse(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


class Queues:
    """Sync Storage client on the test's Azurite, with unique queue names per test."""

    def __init__(self, connection_string: str) -> None:
        self.connection_string = connection_string
        token = uuid.uuid4().hex[:10]
        self.work = f"work-{token}"
        self.awork = f"awork-{token}"

    def client(self, name: str) -> QueueClient:
        return QueueClient.from_connection_string(self.connection_string, name)

    def send(self, name: str, text: str) -> None:
        client = self.client(name)
        try:
            client.create_queue()
        except ResourceExistsError:
            pass
        client.send_message(text)

    def wait_for(self, name: str, count: int, timeout: float = 20.0) -> list[str]:
        """Receive (and delete) ``count`` messages from ``name`` within ``timeout`` seconds."""
        client = self.client(name)
        found: list[str] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            try:
                batch = list(client.receive_messages(max_messages=32, visibility_timeout=60))
            except ResourceNotFoundError:
                batch = []
            for message in batch:
                found.append(message.content)
                client.delete_message(message)
            if len(found) < count:
                time.sleep(0.1)
        assert len(found) >= count, f"expected {count} messages on {name}, got {found}"
        return found

    def length(self, name: str) -> int:
        try:
            return self.client(name).get_queue_properties().approximate_message_count
        except ResourceNotFoundError:
            return 0
