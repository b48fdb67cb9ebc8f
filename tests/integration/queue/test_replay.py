"""``python -m devstack replay`` through Azurite, on every record shape the facade writes (issue 26, item 4):
a single command's record (``original``), a batch item's record (``item``), a poisoned message (the raw
command), and a record of a message that was not UTF-8 (left in place)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from azure.storage.queue import QueueClient, QueueServiceClient

from clients.node_client import node_available
from devstack.__main__ import main
from devstack.azurite import AzuriteQueue
from functions.queue.records import Origin, item_record, message_record

PAYLOAD = {"target": "newMessage", "arguments": ["hello"]}
SINGLE = {"operation": "broadcast", "hub": "chat", "payload": PAYLOAD}
ITEM = {"operation": "sendToUser", "hub": "chat", "user": "u1", "payload": PAYLOAD, "id": "a"}
POISONED = json.dumps([SINGLE, ITEM])


@pytest.fixture(scope="module")
def azurite() -> Iterator[AzuriteQueue]:
    if not node_available():
        pytest.skip("node_modules not installed (run make setup)")
    with AzuriteQueue(port=0) as server:
        yield server


@pytest.fixture
def queues(azurite: AzuriteQueue, monkeypatch: pytest.MonkeyPatch) -> tuple[QueueClient, QueueClient]:
    name = f"cmds-{uuid.uuid4().hex[:8]}"
    service = QueueServiceClient.from_connection_string(azurite.connection_string)
    commands, invalid = service.create_queue(name), service.create_queue(f"{name}-invalid")
    # The storage the settings name for the commands queue, as the facade reads it.
    monkeypatch.setenv("SIGNALR_COMMANDS_STORAGE", azurite.connection_string)
    monkeypatch.setenv("SIGNALR_COMMANDS_QUEUE", name)
    return commands, invalid


def records() -> list[str]:
    """One record of each shape, written by the facade's own record builders."""
    single = message_record("validation: hub: not allowed", Origin("msg-1", 1), json.dumps(SINGLE).encode())
    item = item_record("forbidden: SignalR.Send", Origin("msg-2", 1, attempt=2), 3, ITEM)
    not_utf8 = message_record("bad-request: not UTF-8", Origin("msg-3", 1), b"\xff\xfe")
    return [single, item, POISONED, not_utf8]


def texts(client: QueueClient) -> list[str]:
    return [m.content for m in client.peek_messages(max_messages=32)]


def test_every_shape_is_replayed_as_the_command_it_holds(queues, capsys):
    commands, invalid = queues
    for record in records():
        invalid.send_message(record)
    assert main(["replay", "--from", invalid.queue_name]) == 0
    replayed = texts(commands)
    assert sorted(replayed) == sorted([json.dumps(SINGLE), json.dumps(ITEM), POISONED])
    (left,) = texts(invalid)  # the message that was not UTF-8 cannot go back on a text queue
    assert "originalBase64" in json.loads(left)
    output = capsys.readouterr().out
    assert "batch item record" in output
    assert "poisoned message" in output
    assert "3 replayed" in output
    assert "hello" not in output  # no payload is printed


def test_dry_run_changes_nothing(queues, capsys):
    commands, invalid = queues
    for record in records():
        invalid.send_message(record)
    assert main(["replay", "--from", invalid.queue_name, "--dry-run"]) == 0
    assert texts(commands) == []
    assert len(texts(invalid)) == 4
    output = capsys.readouterr().out
    assert output.count("would replay") == 3
    assert "cannot replay" in output


def test_the_settings_file_names_the_account(queues, tmp_path, monkeypatch, azurite):
    commands, invalid = queues
    monkeypatch.delenv("SIGNALR_COMMANDS_STORAGE")
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"Values": {"SIGNALR_COMMANDS_STORAGE": azurite.connection_string,
                                               "SIGNALR_COMMANDS_QUEUE": commands.queue_name}}))
    invalid.send_message(records()[1])
    assert main(["replay", "--from", invalid.queue_name, "--settings", str(settings)]) == 0
    assert texts(commands) == [json.dumps(ITEM)]
