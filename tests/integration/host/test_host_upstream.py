"""The receiver on the local host: 204 only once the envelope is on the queue, 500 when the
write fails, so the service never hears "done" for an event that was not queued."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from devstack.azurite import AzuriteQueue
from devstack.constants import DEV_ACCESS_KEY as KEY
from devstack.constants import free_port
from devstack.emulator.upstream import signature
from devstack.stack import wait_for_port

from .helpers import Queues

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def facade_host(azurite: AzuriteQueue, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Start the real app on the local host with the given events queue; returns its base URL."""
    started: list[subprocess.Popen] = []

    def start(events_queue: str) -> str:
        port = free_port()
        settings = tmp_path / f"settings-{len(started)}.json"
        settings.write_text(json.dumps({"Values": {
            "AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1;Port=1;AccessKey={KEY};Version=1.0;",
            "SIGNALR_COMMANDS_STORAGE": azurite.connection_string,
            "SIGNALR_COMMANDS_QUEUE": f"cmd-{uuid.uuid4().hex[:10]}",
            "SIGNALR_EVENTS_QUEUE": events_queue,
        }}))
        process = subprocess.Popen([sys.executable, "-m", "devstack.host", "--app-dir", str(ROOT), "--port", str(port),
                                    "--settings", str(settings)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        started.append(process)
        wait_for_port(port, process, timeout=60)
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def post_connected(base_url: str) -> requests.Response:
    headers = {"Content-Type": "application/json", "X-ASRS-Hub": "chat", "X-ASRS-Category": "connections",
               "X-ASRS-Event": "connected", "X-ASRS-Connection-Id": "conn-1",
               "X-ASRS-Signature": signature("conn-1", KEY)}
    return requests.post(f"{base_url}/api/upstream/chat/connections/connected", data=b'{"type":10}',
                         headers=headers, timeout=30)


def test_the_answer_is_204_once_the_envelope_is_on_the_queue(facade_host, azurite):
    queue = f"events-{uuid.uuid4().hex[:10]}"
    response = post_connected(facade_host(queue))
    assert response.status_code == 204
    [text] = Queues(azurite.connection_string).wait_for(queue, 1)
    assert json.loads(text)["connectionId"] == "conn-1"


def test_a_failed_queue_write_is_a_500_never_a_204(facade_host):
    # An upper-case queue name is refused by Storage: the write fails after the function ran.
    response = post_connected(facade_host("Not_A_Valid_Queue"))
    assert response.status_code == 500
