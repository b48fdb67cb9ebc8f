"""``python -m devstack.host``: run the function app locally, as ``func start`` would.

    python -m devstack.host --app-dir . [--port 7071] [--host 127.0.0.1]
        [--settings local.settings.json] [--static DIR] [--static-file /url=path ...]

Without ``--settings``, ``<app-dir>/local.settings.json`` is read when it exists; without
``--port``, its ``Host.LocalHttpPort`` or 7071. Prints ``Host listening on <url>`` once ready
and stops gracefully on SIGTERM or SIGINT (exit 0).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devstack.console import configure_logging
from devstack.host.config import ConfigError, read_local_settings
from devstack.host.loader import AppLoadError
from devstack.host.local_host import LocalHost
from devstack.stop_flag import StopFlag


def _static_file(text: str) -> tuple[str, Path]:
    url, sep, path = text.partition("=")
    if not sep or not url.startswith("/") or not path:
        raise argparse.ArgumentTypeError("expected /url/path=file/path")
    return url, Path(path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.host", description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, default=Path("."))
    parser.add_argument("--app-module", default="function_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--settings", type=Path, default=None, help="local settings file (Values -> environment)"
    )
    parser.add_argument(
        "--static", type=Path, default=None, help="directory served at / (outside routePrefix)"
    )
    parser.add_argument("--static-file", type=_static_file, action="append", default=[], metavar="/URL=PATH")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--verbose", action="store_true", help="log everything, the Azure SDKs' HTTP traffic too")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("[%(asctime)s] %(levelname)s %(message)s", level=args.log_level.upper(), verbose=args.verbose)
    settings = args.settings
    if settings is None and (args.app_dir / "local.settings.json").is_file():
        settings = args.app_dir / "local.settings.json"
    port = args.port
    try:
        if port is None:
            port = (read_local_settings(settings).local_http_port if settings else None) or 7071
        host = LocalHost(
            args.app_module,
            args.app_dir,
            host=args.host,
            port=port,
            settings_file=settings,
            static_dir=args.static,
            static_files=dict(args.static_file),
        )
        host.start()
    except (ConfigError, AppLoadError, OSError) as e:
        print(f"devstack.host: {e}", file=sys.stderr)
        return 1
    stop = StopFlag().on_signals()
    print("Functions:")
    for spec in host.functions:
        print(f"  {spec.name}: {host.describe(spec)}")
    print(f"Host listening on {host.base_url}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        host.stop()
    return 0
