"""Put a command on the commands queue: the facade's queue trigger sends it to SignalR."""

from __future__ import annotations

import json
import os

from azure.storage.queue import QueueClient

# The local stack's Azurite; in Azure, the account the app setting SIGNALR_COMMANDS_STORAGE names.
CONNECTION = os.environ.get(
    "COMMANDS_STORAGE",
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;",
)

queue = QueueClient.from_connection_string(CONNECTION, "signalr-commands")  # plain JSON text, no base64
command = {
    "operation": "broadcast",
    "hub": "chat",
    "payload": {"target": "newMessage", "arguments": ["backend", "hello by queue"]},
    "id": "first-integration-1",  # a correlation id: it appears in the facade's log line
}
queue.send_message(json.dumps(command))
print("enqueued:", command["operation"])
