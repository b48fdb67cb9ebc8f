"""A stand-in of the platform's managed-identity endpoint, as App Service and Functions run it.

On Azure the Functions host sets ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``; azure-identity's
``ManagedIdentityCredential`` (through MSAL) then asks

    GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>[&client_id=<uami>]
    X-IDENTITY-HEADER: {IDENTITY_HEADER}

and reads ``access_token`` and ``expires_on`` (epoch seconds) from the JSON answer
(https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference).
This stand-in answers exactly that on loopback, with tokens the development identity
provider signs: v1-shaped like Entra's managed-identity tokens (``iss``
``https://sts.windows.net/{tid}/``, ``aud`` the resource, ``appid`` the identity's client id),
so the facade runs its production credential code against the local SignalR emulator.

    python -m devstack.identity_endpoint --idp-state DIR --client-id ID [--port N]

(the header's secret from ``IDENTITY_HEADER`` if set) prints ``{"IDENTITY_ENDPOINT": ...}``.
Development only.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devstack.idp import DevIdentityProvider
from devstack.loopback import LoopbackHTTPServer
from devstack.stop_flag import StopFlag

SIGNALR_RESOURCE = "https://signalr.azure.com"
API_VERSION = "2019-08-01"
TOKEN_PATH = "/msi/token"
DEV_IDENTITY_CLIENT_ID = "7d1e2f3a-4b5c-4d6e-8f70-819203a4b5c6"  # the user-assigned identity's client id
DEV_IDENTITY_PRINCIPAL_ID = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"  # its object id (oid)


class IdentityEndpoint:
    """Issues managed-identity tokens for ``resources`` to the one identity ``client_id``.

    ``lifetime`` is each token's validity; ``audience`` (default: the resource asked for)
    lets a test issue tokens for the wrong audience; ``available=False`` answers 500 as an
    endpoint in trouble would. ``requests`` counts token requests that reached it.
    """

    def __init__(
        self,
        issuer: DevIdentityProvider,
        *,
        client_id: str = DEV_IDENTITY_CLIENT_ID,
        principal_id: str = DEV_IDENTITY_PRINCIPAL_ID,
        resources: frozenset[str] = frozenset({SIGNALR_RESOURCE}),
        lifetime: int = 3600,
        audience: str | None = None,
        port: int = 0,
        secret: str | None = None,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.principal_id = principal_id
        self.resources = resources
        self.lifetime = lifetime
        self.audience = audience
        self.available = True
        self.requests = 0
        self.secret = secret or secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._server = LoopbackHTTPServer(_handler_for(self), name="identity-endpoint", port=port)

    @property
    def url(self) -> str:
        return self._server.url + TOKEN_PATH

    def environ(self) -> dict[str, str]:
        """The two settings the Functions host gives a worker with a managed identity."""
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": self.secret}

    def answer(self, path: str, header: str | None) -> tuple[int, dict[str, Any]]:
        """(status, JSON) for one GET; errors shaped like the platform's ``statusCode``/``message``."""
        with self._lock:
            self.requests += 1
        parts = urlsplit(path)
        if parts.path != TOKEN_PATH:
            return 404, _error(404, "Not found")
        if not header or not hmac.compare_digest(header.encode(), self.secret.encode()):
            return 401, _error(401, "The X-IDENTITY-HEADER header is missing or wrong")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        if query.get("api-version") != API_VERSION:
            return 400, _error(400, "api-version is not supported")
        resource = query.get("resource", "").rstrip("/")
        if resource not in self.resources:
            return 400, _error(400, "No token can be issued for this resource")
        if query.get("client_id", self.client_id) != self.client_id:
            return 400, _error(400, "Unable to load the proper Managed Identity")
        if not self.available:
            return 500, _error(500, "The identity endpoint failed")
        expires_on = int(time.time()) + self.lifetime
        token = self.issuer.mint(
            version=1, audience=self.audience or resource, user=self.principal_id, lifetime=self.lifetime,
            claims_override={"appid": self.client_id, "idtyp": "app"},
        )
        return 200, {"access_token": token, "expires_on": str(expires_on), "resource": resource,
                     "token_type": "Bearer", "client_id": self.client_id}

    def start(self) -> IdentityEndpoint:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> IdentityEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _error(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "message": message}


def _handler_for(endpoint: IdentityEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = endpoint.answer(self.path, self.headers.get("X-IDENTITY-HEADER"))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.identity_endpoint", description=__doc__.split("\n")[0])
    parser.add_argument("--idp-state", required=True, help="the state dir of a running `python -m devstack.idp`")
    parser.add_argument("--client-id", default=DEV_IDENTITY_CLIENT_ID)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    stopping = StopFlag().on_signals()
    issuer = DevIdentityProvider.from_state(args.idp_state)
    # The secret comes by environment (never argv, which `ps` shows), as the platform hands it over.
    secret = os.environ.get("IDENTITY_HEADER") or None
    with IdentityEndpoint(issuer, client_id=args.client_id, port=args.port, secret=secret) as endpoint:
        print(json.dumps({"IDENTITY_ENDPOINT": endpoint.url}), flush=True)
        while not stopping.wait(1):
            pass


if __name__ == "__main__":
    main()
