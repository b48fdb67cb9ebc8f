"""Helpers for the auth tests: a hand-moved clock, a server that must never be called,
and assertions that a token is refused without being echoed."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.auth.validator import TokenValidator
from functions.core.errors import FacadeError, InvalidToken

OTHER_TENANT_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
THIRD_TENANT_ID = "1b2c3d4e-5f60-4718-89a0-b1c2d3e4f506"


class FakeClock:
    """A clock tests move by hand; callable like time.monotonic / time.time."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingServer:
    """Answers every request 200 with an empty JWKS, and counts the requests."""

    def __init__(self) -> None:
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                body = b'{"keys": []}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def b64url(data: bytes | dict[str, Any]) -> str:
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(header, claims, signature segment) of a compact token, unverified."""
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def _messages(error: BaseException) -> list[str]:
    """Everything an error could put in a response or a log line, down its cause chain."""
    seen: list[str] = []
    current: BaseException | None = error
    while current is not None and len(seen) < 20:
        seen.append(str(current))
        seen.append(repr(current))
        if isinstance(current, FacadeError):
            seen.append(current.detail)
            seen.extend(current.headers().values())
        current = current.__cause__ or current.__context__
    return seen


def assert_no_token_in(error: BaseException, token: str) -> None:
    for text in _messages(error):
        assert token not in text
        # Nor any of its parts big enough to matter (the payload, the signature).
        for part in token.split("."):
            if len(part) > 16:
                assert part not in text


def refused(validator: TokenValidator, token: str, reason: str | None = None) -> InvalidToken:
    """Asserts the token is refused as InvalidToken (with ``reason`` in the detail) and
    that nothing the error carries repeats the token."""
    with pytest.raises(InvalidToken) as caught:
        validator.authenticate(f"Bearer {token}")
    if reason is not None:
        assert reason in caught.value.detail
    assert_no_token_in(caught.value, token)
    return caught.value
