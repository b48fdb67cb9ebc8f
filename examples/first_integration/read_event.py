"""Read one event the clients sent (connected, disconnected, or a message to the hub) from the events queue."""

from __future__ import annotations

import json
import os
import time

from azure.storage.queue import QueueClient
from enqueue_command import CONNECTION

events = QueueClient.from_connection_string(os.environ.get("EVENTS_STORAGE", CONNECTION), "signalr-events")
deadline = time.monotonic() + float(os.environ.get("WAIT_SECONDS", "30"))
while time.monotonic() < deadline:
    messages = list(events.receive_messages(max_messages=1, visibility_timeout=30))
    if messages:
        event = json.loads(messages[0].content)
        print("event:", event["category"], event["event"], event.get("connectionId"))
        events.delete_message(messages[0])  # done with it; an event left undeleted comes back
        break
    time.sleep(1)
else:
    raise SystemExit("no event within the wait")
