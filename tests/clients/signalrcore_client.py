"""Drive the Python ``signalrcore`` client (1.0.2) from pytest, events like ``NodeClient``.

signalrcore and a ``{url, accessToken}`` redirect (the facade's negotiate): it does follow
it, but not like the JS client. It opens the WebSocket straight on the redirect URL with
the token in an ``Authorization`` header, without a second negotiate, so there is no
``id`` and no client-side connection id (``connection_id`` is None; look it up on the
service). After a redirect it also picks MessagePack unless told otherwise (it assumes the
service's transfer formats); the emulator speaks JSON only, so this helper asks for JSON.
Negotiating directly with the service it sends no ``negotiateVersion``, so the service
answers version 0 and the connection id itself is the ``id``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.messages.message_type import MessageType
from signalrcore.protocol.json_hub_protocol import JsonHubProtocol

from .events import EventLog


class SignalRCoreClientError(RuntimeError):
    """Raised when the client could not connect."""


class SignalRCoreClient:
    def __init__(self, url: str, token: str | Callable[[], str] | None = None, *, name: str | None = None,
                 skip_negotiation: bool = False) -> None:
        self.url = url
        self.name = name
        self.events = EventLog()
        self.connection_id: str | None = None
        self._opened = threading.Event()
        self._close_error: str | None = None
        options: dict[str, Any] = {"skip_negotiation": skip_negotiation}
        if token is not None:
            options["access_token_factory"] = token if callable(token) else (lambda: token)
        self._hub = (
            HubConnectionBuilder()
            .with_url(url, options=options)
            .with_hub_protocol(JsonHubProtocol())
            .configure_logging(logging.CRITICAL)
            .build()
        )
        self._hub.on_open(self._opened.set)
        self._hub.on_close(self._on_close)
        # Wrap the dispatcher (the transport binds it at start) to see every target and the
        # Close message's error, which signalrcore does not pass to on_close.
        original = self._hub.on_message
        self._hub.on_message = lambda messages: (self._record(messages), original(messages))[1]

    def _record(self, messages: list[Any]) -> None:
        for message in messages:
            if message.type == MessageType.invocation:
                self.events.append({"event": "message", "target": message.target,
                                    "arguments": message.arguments, "name": self.name})
            elif message.type == MessageType.close:
                self._close_error = getattr(message, "error", None)

    def _on_close(self) -> None:
        self.events.append({"event": "closed", "error": self._close_error, "name": self.name})

    def start(self, timeout: float = 15.0) -> SignalRCoreClient:
        try:
            self._hub.start()
        except Exception as e:
            self.events.append({"event": "error", "error": str(e) or type(e).__name__, "name": self.name})
            raise SignalRCoreClientError(str(e) or type(e).__name__) from e
        if not self._opened.wait(timeout):
            self.stop()
            raise SignalRCoreClientError(f"not connected within {timeout}s")
        query = parse_qs(urlsplit(self._hub.url).query)
        self.connection_id = query.get("id", [None])[0]
        self.events.append({"event": "connected", "connectionId": self.connection_id, "name": self.name})
        return self

    def send(self, target: str, *arguments: Any) -> None:
        self._hub.send(target, list(arguments))

    def stop(self) -> None:
        try:
            self._hub.stop()
        except Exception:
            pass

    def __enter__(self) -> SignalRCoreClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
