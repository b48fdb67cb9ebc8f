"""Connect as a frontend does (negotiate through the facade, then the Python signalrcore client) and print
the messages delivered to it. Sends one message to the hub once connected, which becomes an event."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading

import requests
from dev_token import get_token
from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.protocol.json_hub_protocol import JsonHubProtocol

FACADE_URL = os.environ.get("FACADE_URL", "http://127.0.0.1:7071")
expected = int(sys.argv[1]) if len(sys.argv) > 1 else 1

# 1. Negotiate through the facade: where to connect, and a short-lived token for the service.
negotiated = requests.post(f"{FACADE_URL}/api/v1/hubs/chat/negotiate",
                           headers={"Authorization": f"Bearer {get_token()}"}, timeout=10).json()

# 2. Connect to the SignalR Service with that URL and token.
connection = (HubConnectionBuilder()
              .with_url(negotiated["url"], options={"access_token_factory": lambda: negotiated["accessToken"]})
              .with_hub_protocol(JsonHubProtocol())
              .configure_logging(logging.CRITICAL)
              .build())
received: list[list] = []
done, opened = threading.Event(), threading.Event()


def on_message(arguments: list) -> None:
    received.append(arguments)
    print("delivered:", json.dumps(arguments), flush=True)
    if len(received) >= expected:
        done.set()


connection.on("newMessage", on_message)
connection.on_open(opened.set)
connection.start()
if not opened.wait(15):
    raise SystemExit("not connected")
print("connected", flush=True)
connection.send("sendMessage", ["frontend", "hello from a client"])  # reaches backends as an event
done.wait(float(os.environ.get("WAIT_SECONDS", "60")))
connection.stop()
if len(received) < expected:
    raise SystemExit(f"{len(received)} of {expected} messages delivered")
