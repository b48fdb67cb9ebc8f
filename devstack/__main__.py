"""``python -m devstack``: the local development stack (never deployed).

    python -m devstack up [--managed-identity] [--host-port 7071] [--emulator-port 8888] [--queue-port 10001]
                          [--idp-port 7072] [--identity-port 7073] [--no-backend]
                          [--endpoints N]   N SignalR emulators on 8888, 8889, ... (several endpoints)
                          [--verbose]       the Azure SDKs' HTTP traffic too
                          [--state-dir DIR] where the stack keeps its files (default .devstack)
                          [--core-tools]    the function app under Azure Functions Core Tools (`func start`)
                          [--app-dir DIR]   the function app's directory (default: the repository root)
    python -m devstack token [--role R]... [--scope S]... [--user OID] [--tenant TID] [--lifetime SECONDS]
                             [--state-dir DIR] the stack's, as given to `up` (default .devstack)
    python -m devstack openapi          the facade's OpenAPI document (docs/openapi.json)
    python -m devstack docs [--check]   rewrite the docs' sections generated from the code (devstack.docs_table)
    python -m devstack replay --from Q [--to Q] [--dry-run] [--settings FILE]
                                        dead-lettered or poisoned commands back onto the commands queue
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

STATE_DIR_HELP = "where the stack keeps its files (default .devstack)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack", description="signalr-facade local stack")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the whole stack and supervise it until Ctrl-C")
    up.add_argument("--host-port", type=int, default=7071, help="function app (default 7071)")
    up.add_argument("--emulator-port", type=int, default=8888, help="SignalR emulator (default 8888)")
    up.add_argument("--queue-port", type=int, default=10001, help="Azurite queue service (default 10001)")
    up.add_argument("--idp-port", type=int, default=7072, help="development identity provider (default 7072)")
    up.add_argument("--idp-tls-port", type=int, default=7074,
                    help="the identity provider over https, for MSAL and azure-identity (default 7074)")
    up.add_argument("--idp-clients", default=None,
                    help="JSON file: client id -> app roles for client-credentials tokens (unlisted: every permission)")
    up.add_argument("--identity-port", type=int, default=7073,
                    help="managed-identity endpoint stand-in, with --managed-identity (default 7073)")
    up.add_argument("--managed-identity", action="store_true",
                    help="reach SignalR as on Azure: AuthType=azure.msi through a local identity endpoint")
    up.add_argument("--state-dir", default=None, help=STATE_DIR_HELP)
    up.add_argument("--no-backend", action="store_true",
                    help="do not run the sample chat backend (upstream events stay on the events queue)")
    up.add_argument("--endpoints", type=int, default=1, choices=range(1, 5), metavar="N",
                    help="SignalR emulators, one endpoint each, on consecutive ports (1-4, default 1)")
    up.add_argument("--verbose", action="store_true",
                    help="log everything, the Azure SDKs' HTTP traffic too (default: one line per event)")
    up.add_argument("--core-tools", action="store_true",
                    help="run the function app with `func start` (Azure Functions Core Tools, installed "
                         "separately) instead of the in-process host")
    up.add_argument("--app-dir", default=None, help="the function app's directory (default: the repository root)")

    token = commands.add_parser("token", help="print one bearer token the running stack accepts")
    token.add_argument("--role", action="append", default=[], help="app role (repeatable)")
    token.add_argument("--scope", action="append", default=[], help="delegated scope (repeatable)")
    token.add_argument("--user", help="the caller's object id (oid)")
    token.add_argument("--tenant", help="tenant id (tid)")
    token.add_argument("--lifetime", type=int, default=3600, help="seconds (default 3600)")
    token.add_argument("--state-dir", default=None, help=STATE_DIR_HELP + "; the same directory as `up`'s")

    commands.add_parser("openapi", help="print the OpenAPI document")
    docs = commands.add_parser("docs", help="rewrite the docs' sections generated from the code")
    docs.add_argument("--check", action="store_true", help="only say which pages drifted; exit 1 if any")
    commands.add_parser("replay", help="move dead-lettered or poisoned commands back onto the commands queue "
                                       "(python -m devstack replay --help)", add_help=False)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["replay"]:  # its own parser: python -m devstack replay --help
        from devstack.replay import main as replay_main

        return replay_main(argv[1:])
    args = parse_args(argv)
    if args.command == "up":
        from devstack.stack import ROOT, Ports, up

        ports = Ports(args.host_port, args.emulator_port, args.queue_port, args.idp_port, args.identity_port,
                      args.idp_tls_port)
        state_dir = Path(args.state_dir) if args.state_dir else ROOT / ".devstack"
        return up(ports, state_dir, managed_identity=args.managed_identity, backend=not args.no_backend,
                  endpoints=args.endpoints, verbose=args.verbose, core_tools=args.core_tools,
                  app_dir=Path(args.app_dir).resolve() if args.app_dir else ROOT,
                  idp_clients=Path(args.idp_clients) if args.idp_clients else None)
    if args.command == "token":
        from devstack.idp import ALL_PERMISSIONS, mint_from_state
        from devstack.idp.state import STATE_FILE
        from devstack.stack import ROOT, idp_state_dir

        # One meaning for --state-dir: the stack's directory, as `up` takes it; the provider's keys are in it.
        state_dir = idp_state_dir(Path(args.state_dir) if args.state_dir else ROOT / ".devstack")
        # No role and no scope asked for: a token with every permission, for the tour.
        roles = args.role or ([] if args.scope else list(ALL_PERMISSIONS))
        kwargs = {"roles": roles, "scopes": args.scope, "lifetime": args.lifetime}
        kwargs.update({k: v for k, v in (("user", args.user), ("tenant", args.tenant)) if v})
        try:
            print(mint_from_state(state_dir, **kwargs))
        except FileNotFoundError:
            print(f"devstack: no running stack found: looked for {state_dir / STATE_FILE} (start the stack with "
                  "`make run`, or pass the --state-dir `python -m devstack up` was given)", file=sys.stderr)
            return 1
        return 0
    if args.command == "docs":
        from devstack import docs_table

        return docs_table.main(["--check"] if args.check else [])
    from functions.http.openapi import openapi_document

    print(json.dumps(openapi_document(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
