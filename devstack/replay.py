"""``python -m devstack replay --from signalr-commands-invalid [--dry-run]``: the dead-letter runbook as a command.

Moves what the facade set aside back onto the commands queue, once its cause is fixed. It reads every
record shape the facade writes (functions/queue/trigger.py, functions/queue/batch.py):

- a single command's record: ``{"reason", "errors", ..., "original": "<the message text>"}``
  (``originalBase64`` when the message was not UTF-8: reported, never replayed, a text queue cannot hold it);
- a batch item's record: ``{"reason", "errors", "index", "item": {<the command object>}, "attempt", ...}``:
  replayed as one queued command (its index in the batch no longer matters);
- a poisoned message: the host moved the message itself, untouched, to ``<queue>-poison`` after
  ``maxDequeueCount`` tries: replayed as it is (one command or a whole batch).

The storage account is the one the settings name for the commands queue (``SIGNALR_COMMANDS_STORAGE``):
a connection string, or an identity-based connection (``SIGNALR_COMMANDS_STORAGE__queueServiceUri`` or
``__accountName``, with azure-identity's DefaultAzureCredential, e.g. after ``az login``), taken from the
environment or from ``--settings`` (a local.settings.json, or an export of the app's settings). Each message
is deleted from the source only after it was sent to the target; ``--dry-run`` only peeks and says what it
would send. Nothing of a command's payload is printed: its operation, hub and the reason it was set aside.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.core.settings import COMMANDS_QUEUE, COMMANDS_STORAGE_CONNECTION, DEFAULT_COMMANDS_QUEUE

MAX_MESSAGES = 1000  # per run: a bounded loop; run again for more


@dataclass(frozen=True)
class Replay:
    """What one record comes to: the text to send (None: cannot be replayed) and how it was read."""

    shape: str  # "command record", "batch item record", "poisoned message"
    text: str | None
    reason: str = ""


def read_record(content: str) -> Replay:
    """The command a dead-letter or poison queue message holds, whatever the shape the facade wrote."""
    try:
        data: Any = json.loads(content)
    except ValueError:
        data = None
    if isinstance(data, dict) and "reason" in data:
        reason = str(data.get("reason", ""))
        if isinstance(data.get("item"), dict):
            return Replay("batch item record", json.dumps(data["item"]), reason)
        if isinstance(data.get("original"), str):
            return Replay("command record", data["original"], reason)
        if "originalBase64" in data:
            return Replay("command record (not UTF-8)", None, reason)
    return Replay("poisoned message", content, "moved by the host after its retries")


def _describe(replay: Replay) -> str:
    try:
        data = json.loads(replay.text or "")
    except ValueError:
        data = None
    if isinstance(data, dict) and "operation" in data:
        what = f"operation={str(data.get('operation'))[:64]!r} hub={str(data.get('hub'))[:64]!r}"
    elif isinstance(data, list) or (isinstance(data, dict) and "commands" in data):
        what = "a batch"
    else:
        what = "unreadable text"
    return f"{replay.shape}: {what}" + (f" (set aside for: {replay.reason[:200]!r})" if replay.reason else "")


def settings_values(path: str | None) -> dict[str, str]:
    values = dict(os.environ)
    if path:
        document = json.loads(Path(path).read_text())
        values.update({k: str(v) for k, v in (document.get("Values", document)).items()})
    return values


def queue_client(values: dict[str, str], queue: str):
    """A QueueClient for ``queue`` in the account the commands-queue connection names."""
    from azure.storage.queue import QueueClient

    connection = values.get(COMMANDS_STORAGE_CONNECTION) or values.get("AzureWebJobsStorage")
    if connection:
        return QueueClient.from_connection_string(connection, queue)
    uri = values.get(f"{COMMANDS_STORAGE_CONNECTION}__queueServiceUri")
    account = values.get(f"{COMMANDS_STORAGE_CONNECTION}__accountName")
    if not uri and account:
        uri = f"https://{account}.queue.core.windows.net"
    if not uri:
        raise SystemExit(f"replay: no storage named: set {COMMANDS_STORAGE_CONNECTION} (a connection string) or "
                         f"{COMMANDS_STORAGE_CONNECTION}__queueServiceUri, in the environment or --settings")
    from azure.identity import DefaultAzureCredential

    return QueueClient(uri, queue, credential=DefaultAzureCredential())


def replay(source, target, *, dry_run: bool, limit: int = MAX_MESSAGES, out=None) -> int:
    """Replay up to ``limit`` messages of ``source`` onto ``target``; the number sent (or that would be)."""
    out = out or sys.stdout
    count = 0
    if dry_run:
        for message in source.peek_messages(max_messages=32):
            found = read_record(message.content)
            verb = "would replay" if found.text is not None else "cannot replay"
            print(f"{verb} {message.id}: {_describe(found)}", file=out)
            count += found.text is not None
        print(f"dry run: {count} of the first {min(32, limit)} messages would be replayed (peek shows at most 32)",
              file=out)
        return count
    seen = 0
    left = []  # visible again only at the end, so one run does not read them twice
    while seen < limit:
        batch = list(source.receive_messages(max_messages=32, visibility_timeout=60))
        if not batch:
            break
        for message in batch:
            seen += 1
            found = read_record(message.content)
            if found.text is None:
                print(f"left {message.id} in place: {_describe(found)}", file=out)
                left.append(message)
                continue
            target.send_message(found.text)
            source.delete_message(message)
            count += 1
            print(f"replayed {message.id}: {_describe(found)}", file=out)
    for message in left:
        source.update_message(message, visibility_timeout=0)
    print(f"{count} replayed" + (f", {len(left)} left in place" if left else ""), file=out)
    return count


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack replay", description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", required=True,
                        help="the queue to empty: <queue>-invalid or <queue>-poison")
    parser.add_argument("--to", dest="target", default=None,
                        help=f"the commands queue (default: {COMMANDS_QUEUE} from the settings, else "
                             f"{DEFAULT_COMMANDS_QUEUE})")
    parser.add_argument("--settings", default=None, help="a local.settings.json (its Values) or a JSON object")
    parser.add_argument("--dry-run", action="store_true", help="say what would be replayed; change nothing")
    parser.add_argument("--max", type=int, default=MAX_MESSAGES, help=f"at most this many (default {MAX_MESSAGES})")
    args = parser.parse_args(argv)
    values = settings_values(args.settings)
    target = args.target or values.get(COMMANDS_QUEUE) or DEFAULT_COMMANDS_QUEUE
    if target == args.source:
        raise SystemExit("replay: --from and --to name the same queue")
    replay(queue_client(values, args.source), queue_client(values, target), dry_run=args.dry_run,
           limit=args.max)
    return 0
