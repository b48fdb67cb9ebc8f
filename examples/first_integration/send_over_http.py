"""Send a message to every client of the hub "chat", over HTTP."""

from __future__ import annotations

import os

import requests
from dev_token import get_token

FACADE_URL = os.environ.get("FACADE_URL", "http://127.0.0.1:7071")

response = requests.post(
    f"{FACADE_URL}/api/v1/hubs/chat",
    headers={"Authorization": f"Bearer {get_token()}"},
    json={"target": "newMessage", "arguments": ["backend", "hello over HTTP"]},
    timeout=10,
)
if response.status_code != 202:
    # Every failure is application/problem+json: "detail" says what to fix.
    raise SystemExit(f"{response.status_code}: {response.json()['detail']}")
print("sent over HTTP:", response.status_code)
