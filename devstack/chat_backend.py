"""``python -m devstack.chat_backend``: a sample backend for upstream events (never deployed).

It reads the events queue the facade fills and answers through the facade, closing the loop
browser → service → upstream → queue → backend → facade → browsers:

- ``messages/chat`` with a text argument: broadcast ``newMessage(<sender's user id>, text)``
  to the hub. The sender's name is the user id the service vouches for, never one the
  client typed, so nobody can speak as somebody else;
- every other event is read and deleted (a real backend would track presence, and so on).

Delivery is at least once: a message is deleted only after the facade took the broadcast;
on a transient failure it becomes visible again, and after ``MAX_TRIES`` it is dropped with
a log line. It authenticates to the facade with a token from the local identity provider
(app role ``SignalR.Send``), renewed before it expires.

    python -m devstack.chat_backend --facade http://127.0.0.1:7071 --storage <connection string>
        --queue signalr-events --idp-state .devstack/idp
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from devstack.console import configure_logging
from devstack.stop_flag import StopFlag

log = logging.getLogger("chat_backend")

BACKEND_IDENTITY = "00000000-0000-0000-0000-00000000b0b0"  # the sample backend's object id
TOKEN_LIFETIME = 3600
MAX_TRIES = 5
# An empty queue is polled less and less often, as the Functions queue listener does
# (exponential back-off up to a ceiling); a message brings the pace back at once.
MIN_POLL_INTERVAL = 0.1
MAX_POLL_INTERVAL = 2.0


def chat_broadcast(envelope: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The facade call an event asks for: (hub, payload), or None when there is nothing to say."""
    arguments = envelope.get("arguments") or []
    if envelope.get("category") != "messages" or envelope.get("target") != "chat":
        return None
    if not arguments or not isinstance(arguments[0], str) or not arguments[0].strip():
        return None
    sender = envelope.get("userId") or "anonymous"
    return envelope["hub"], {"target": "newMessage", "arguments": [sender, arguments[0]]}


class ChatBackend:
    def __init__(self, facade_url: str, storage: str, queue_name: str, idp_state: Path) -> None:
        from azure.storage.queue import QueueClient

        self.facade_url = facade_url.rstrip("/")
        self.queue = QueueClient.from_connection_string(storage, queue_name)
        self.idp_state = idp_state
        self.session = requests.Session()
        self._token: tuple[str, float] | None = None
        self.stopping = StopFlag()

    def token(self) -> str:
        from devstack.idp import mint_from_state

        if self._token is None or self._token[1] < time.monotonic():
            token = mint_from_state(self.idp_state, roles=["SignalR.Send"], user=BACKEND_IDENTITY,
                                    lifetime=TOKEN_LIFETIME)
            self._token = (token, time.monotonic() + TOKEN_LIFETIME / 2)
        return self._token[0]

    def handle(self, text: str) -> bool:
        """Act on one event; True when it is done with (delete it), False to try again later."""
        try:
            envelope = json.loads(text)
            call = chat_broadcast(envelope)
        except (ValueError, KeyError, TypeError):
            log.warning("dropping a message that is not an event envelope")
            return True
        if call is None:
            return True
        hub, payload = call
        try:
            response = self.session.post(f"{self.facade_url}/api/v1/hubs/{quote(hub, safe='')}", json=payload,
                                         headers={"Authorization": f"Bearer {self.token()}"}, timeout=10)
        except requests.RequestException as e:
            log.warning("facade unreachable (%s); the event will be retried", type(e).__name__)
            return False
        if response.status_code >= 500 or response.status_code == 429:
            log.warning("facade answered %s; the event will be retried", response.status_code)
            return False
        if response.status_code >= 400:
            log.warning("facade refused the broadcast: %s; dropping event %s", response.status_code,
                        envelope.get("id"))
        else:
            log.info("chat message from %r broadcast to hub %r (%s)", payload["arguments"][0], hub,
                     response.status_code)
        return True

    def run(self) -> None:
        interval = MIN_POLL_INTERVAL
        while not self.stopping.is_set():
            received = False
            for message in self.queue.receive_messages(max_messages=32, visibility_timeout=30):
                received = True
                if self.handle(message.content) or message.dequeue_count >= MAX_TRIES:
                    self.queue.delete_message(message)
                if self.stopping.is_set():
                    break
            interval = next_poll_interval(interval, received)
            if not received:
                self.stopping.wait(interval)


def next_poll_interval(current: float, received: bool) -> float:
    """Back to the fastest pace after a message; otherwise twice as long, up to the ceiling."""
    return MIN_POLL_INTERVAL if received else min(MAX_POLL_INTERVAL, current * 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.chat_backend", description="sample events backend")
    parser.add_argument("--facade", required=True, help="the facade's base URL, e.g. http://127.0.0.1:7071")
    parser.add_argument("--storage", required=True, help="the events queue's storage connection string")
    parser.add_argument("--queue", default="signalr-events")
    parser.add_argument("--idp-state", required=True, help="the local identity provider's state directory")
    parser.add_argument("--verbose", action="store_true", help="log everything, the Azure SDKs' HTTP traffic too")
    args = parser.parse_args(argv)
    configure_logging("chat_backend: %(message)s", verbose=args.verbose)
    backend = ChatBackend(args.facade, args.storage, args.queue, Path(args.idp_state))
    backend.stopping.on_signals()
    print(f"chat backend reading queue '{args.queue}', answering through {args.facade}", flush=True)
    backend.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
