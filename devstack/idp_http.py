"""The development identity provider's HTTP face: OpenID documents, and the demo's sign-in."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from functions.catalog import Permission

if TYPE_CHECKING:
    from devstack.idp import DevIdentityProvider

DEV_USER_ID = "3f2e1d0c-b9a8-4765-8432-10fedcba9876"  # oid of the default caller
DEMO_ROLES = tuple(p.value for p in Permission)


def handler_for(idp: DevIdentityProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind, document = idp.route(self.path)
            with idp._lock:
                idp.fetches[kind] += 1
            if document is not None and not idp._available:
                self._send(503, {"error": "temporarily_unavailable"})
            elif document is None:
                self._send(404, {"error": "not_found"})
            else:
                self._send(200, document)

        def do_OPTIONS(self) -> None:
            self.send_response(204)
            self._cors()
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            """``/dev/token``: the demo page's sign-in. Loopback development only, like the whole provider."""
            if self.path.split("?", 1)[0] != "/dev/token":
                self._send(404, {"error": "not_found"})
                return
            try:
                length = min(int(self.headers.get("Content-Length") or 0), 4096)
                request = json.loads(self.rfile.read(length) or b"{}")
                user = str(request.get("user") or DEV_USER_ID)[:128]
                roles = [str(r) for r in request.get("roles", DEMO_ROLES)][:8]
            except (ValueError, AttributeError, TypeError):
                self._send(400, {"error": "invalid_request"})
                return
            self._send(200, {"access_token": idp.mint(roles=roles, user=user), "token_type": "Bearer"})

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
