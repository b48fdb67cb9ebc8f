"""The development identity provider's HTTP face: GET documents, and the demo page's sign-in.

It knows nothing of the provider: it is given two callables, what a GET answers and how a
sign-in mints a token, and serves them with CORS for the demo page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

# (status, JSON body) for a GET of a path
GetAnswer = Callable[[str], tuple[int, dict[str, Any]]]
# (user or None, roles or None) -> an access token
SignIn = Callable[[str | None, list[str] | None], str]
# (tenant path segment, form fields) -> (status, JSON body): the OAuth 2.0 token endpoint
TokenGrant = Callable[[str, dict[str, str]], tuple[int, dict[str, Any]]]
MAX_FORM_BYTES = 16 * 1024


def handler_for(answer_get: GetAnswer, sign_in: SignIn,
                grant: TokenGrant | None = None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._send(*answer_get(self.path))

        def do_OPTIONS(self) -> None:
            self.send_response(204)
            self._cors()
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            """``/dev/token``: the demo page's sign-in; ``/{tenant}/oauth2/v2.0/token``: the token endpoint.
            Loopback development only, like the whole provider."""
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            if grant is not None and len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
                self._token(parts[0])
                return
            if self.path.split("?", 1)[0] != "/dev/token":
                self._send(404, {"error": "not_found"})
                return
            try:
                length = min(int(self.headers.get("Content-Length") or 0), 4096)
                request = json.loads(self.rfile.read(length) or b"{}")
                user = str(request["user"])[:128] if request.get("user") else None
                roles = [str(r) for r in request["roles"]][:8] if "roles" in request else None
            except (ValueError, AttributeError, TypeError):
                self._send(400, {"error": "invalid_request"})
                return
            self._send(200, {"access_token": sign_in(user, roles), "token_type": "Bearer"})

        def _token(self, tenant: str) -> None:
            assert grant is not None
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_FORM_BYTES:
                self._send(400, {"error": "invalid_request", "error_description": "body too large"})
                return
            try:
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True,
                                      strict_parsing=False))
            except UnicodeDecodeError:
                self._send(400, {"error": "invalid_request", "error_description": "the form is not UTF-8"})
                return
            self._send(*grant(tenant, form))

        def _cors(self) -> None:
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self._cors()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and the local stack have their own logs

    return Handler
