"""Azurite, the SignalR stand-in and the function app in the local host (a child process),
wired as in Azure: the host polls the commands queue and calls SignalR."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient, QueueServiceClient

from clients.node_client import node_available
from devstack.azurite import Azurite
from devstack.child_stack import free_port
from devstack.constants import DEV_ACCESS_KEY as KEY
from support.recording_upstream import RecordingUpstream
from support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
QUEUE = "signalr-commands"

# Faster than production so retries fit in a test; maxDequeueCount stays host.json's.
HOST_OVERRIDES = {
    "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:01",
}


@dataclass
class QueueSystem:
    azurite: Azurite
    upstream: RecordingUpstream
    host: subprocess.Popen

    def client(self, suffix: str = "") -> QueueClient:
        return QueueClient.from_connection_string(self.azurite.connection_string, QUEUE + suffix)

    def send(self, text: str) -> None:
        self.client().send_message(text)

    def drained(self) -> bool:
        return self.client().get_queue_properties().approximate_message_count == 0

    def records(self, suffix: str) -> list[str]:
        """Every message text on ``<queue><suffix>`` (peeked, up to 32)."""
        return [m.content for m in self.client(suffix).peek_messages(max_messages=32)]


@pytest.fixture(scope="module")
def queue_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueSystem]:
    if not node_available():
        pytest.skip("node_modules not installed (run make setup)")
    upstream = RecordingUpstream().start()
    azurite = Azurite()  # the queues and the idempotency table
    azurite.start()
    service = QueueServiceClient.from_connection_string(azurite.connection_string)
    for name in (QUEUE, f"{QUEUE}-invalid", f"{QUEUE}-poison"):
        service.create_queue(name)
    settings = tmp_path_factory.mktemp("queue") / "local.settings.json"
    settings.write_text(json.dumps({"Values": {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={KEY};Version=1.0;",
        "SIGNALR_COMMANDS_QUEUE": QUEUE,
        "SIGNALR_COMMANDS_STORAGE": azurite.connection_string,
        "SIGNALR_BATCH_MAX_ATTEMPTS": "3",  # fewer than the default 5 so the poison path is reached sooner
        **HOST_OVERRIDES,
    }}))
    port = free_port()
    host = subprocess.Popen(
        [sys.executable, "-m", "devstack.host", "--app-dir", str(ROOT), "--port", str(port), "--settings",
         str(settings), "--log-level", "WARNING"], cwd=ROOT,
    )
    try:
        import requests

        wait_until(lambda: _answers(requests, port), timeout=60, what="local host listening")
        yield QueueSystem(azurite, upstream, host)
    finally:
        host.terminate()
        host.wait(timeout=30)
        azurite.stop()
        upstream.stop()


def _answers(requests, port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False
