"""``python -m devstack.emulator [--host 127.0.0.1] [--port 8888] [--access-key KEY]
[--entra-issuer ISS --entra-jwks-url URL [--entra-audience AUD]] [--upstream URL]``

``--upstream`` is the URL template the service POSTs client events to (serverless upstream),
e.g. ``http://127.0.0.1:7071/api/upstream/{hub}/{category}/{event}``. With
``--upstream-token-url`` and ``--upstream-identity`` the calls carry a bearer token of that
identity from the local identity provider, as the service's managed-identity upstream does.
"""

from __future__ import annotations

import argparse
import os

from aiohttp import web

from devstack.constants import DEV_ACCESS_KEY

from .app import create_app
from .entra_auth import SIGNALR_AUDIENCE, EntraTrust


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default: loopback only)")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument(
        "--access-key",
        default=os.environ.get("SIGNALR_EMULATOR_ACCESS_KEY", DEV_ACCESS_KEY),
        help="AccessKey of the connection string (default: the official emulator's public dev key)",
    )
    parser.add_argument("--entra-issuer", help="also accept Entra ID tokens from this issuer (exact iss)")
    parser.add_argument("--entra-jwks-url", help="the issuer's signing keys (JWKS)")
    parser.add_argument("--entra-audience", default=SIGNALR_AUDIENCE, help=f"default {SIGNALR_AUDIENCE}")
    parser.add_argument(
        "--upstream",
        default=os.environ.get("SIGNALR_EMULATOR_UPSTREAM") or None,
        help="upstream URL template with {hub}, {category}, {event} (default: none; invoking clients are closed)",
    )
    parser.add_argument("--upstream-token-url", help="the local identity provider's /dev/token (managed identity)")
    parser.add_argument("--upstream-identity", help="object id of the service's identity for upstream tokens")
    args = parser.parse_args(argv)
    if bool(args.upstream_token_url) != bool(args.upstream_identity):
        parser.error("--upstream-token-url and --upstream-identity go together")
    upstream_identity = (args.upstream_token_url, args.upstream_identity) if args.upstream_identity else None
    if bool(args.entra_issuer) != bool(args.entra_jwks_url):
        parser.error("--entra-issuer and --entra-jwks-url go together")
    entra = EntraTrust(args.entra_issuer, args.entra_jwks_url, args.entra_audience) if args.entra_issuer else None
    print(
        f"SignalR emulator on http://{args.host}:{args.port} "
        f"(Endpoint=http://{args.host};Port={args.port};AccessKey=<key>;Version=1.0;)",
        flush=True,
    )
    app = create_app(args.access_key, entra=entra, upstream_template=args.upstream,
                     upstream_identity=upstream_identity)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
