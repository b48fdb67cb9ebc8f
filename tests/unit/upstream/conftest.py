"""Fixtures for the upstream receiver, named after what they return."""

from __future__ import annotations

from collections.abc import Callable

import azure.functions as func
import pytest

from devstack.constants import DEV_ACCESS_KEY
from functions.upstream.signature import signature_header
from support.bindings import OutCapture

SECONDARY_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
SIGNALR_IDENTITY = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"  # the SignalR resource's identity (object id)

CONNECTED = b'{"type":10}'
DISCONNECTED = b'{"type":11,"error":"The client timed out."}'


def invocation(target: str, arguments: list, invocation_id: str | None = None) -> bytes:
    import json

    message: dict = {"type": 1, "target": target, "arguments": arguments}
    if invocation_id is not None:
        message["invocationId"] = invocation_id
    return json.dumps(message).encode() + b"\x1e"


def service_headers(hub: str = "chat", category: str = "connections", event: str = "connected",
                    connection_id: str = "conn-1", keys: tuple[str, ...] = (DEV_ACCESS_KEY,), **extra: str) -> dict:
    """The headers the service sends, signed with ``keys`` (as the service signs with both of its keys)."""
    headers = {"Content-Type": "application/json", "X-ASRS-Hub": hub, "X-ASRS-Category": category,
               "X-ASRS-Event": event, "X-ASRS-Connection-Id": connection_id,
               "X-ASRS-User-Id": "user-1", "X-ASRS-User-Claims": "nameid: user-1, role: admin",
               "X-ASRS-Client-Query": "?hub=chat&room=blue"}
    if keys:
        headers["X-ASRS-Signature"] = signature_header(connection_id, keys)
    headers.update(extra)
    return {k: v for k, v in headers.items() if v is not None}


class Delivery:
    """One call of the receiver: its response and what it set on the events queue output."""

    def __init__(self, response: func.HttpResponse, queued: OutCapture) -> None:
        self.response = response
        self.queued = queued.value

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def envelope(self) -> dict:
        import json

        assert self.queued is not None
        return json.loads(self.queued)


@pytest.fixture
def upstream_env(secured_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    from functions.core.facade import reset_facade

    secured_env.setenv("SIGNALR_EVENTS_QUEUE", "signalr-events")
    secured_env.setenv("SIGNALR_UPSTREAM_IDENTITIES", SIGNALR_IDENTITY)
    secured_env.setenv("SIGNALR_UPSTREAM_KEYS", SECONDARY_KEY)
    # Both ways in, as during a migration, so the signature and the identity tests share one setup;
    # test_identity.py holds what happens without it.
    secured_env.setenv("SIGNALR_UPSTREAM_ACCEPT_SIGNATURES", "true")
    reset_facade()
    return secured_env


@pytest.fixture
def deliver(registered_functions, upstream_env) -> Callable[..., Delivery]:
    """POST one upstream request to the receiver: ``deliver(headers, body, route=...)``."""
    function = registered_functions["upstreamEvent"].get_user_function()

    def call(headers: dict, body: bytes = CONNECTED, route: dict | None = None) -> Delivery:
        route = route or {"hub": headers.get("X-ASRS-Hub", "chat"), "category": headers.get("X-ASRS-Category", ""),
                          "event": headers.get("X-ASRS-Event", "")}
        url = "http://127.0.0.1:7071/api/upstream/{hub}/{category}/{event}".format(**route)
        request = func.HttpRequest("POST", url, headers=headers, params={}, route_params=route, body=body)
        queued = OutCapture()
        return Delivery(function(request, events=queued), queued)

    return call
