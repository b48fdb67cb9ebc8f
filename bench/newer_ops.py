"""What the 2024-12-01 operations add: ``python -m bench.newer_ops [--pages N]``.

Side by side, printed (no goals: reported figures, like the fuzz summary):

- the ``:execute`` filter check (``functions.catalog.odata.filter``) on a typical filter and on the
  longest one allowed (2048 characters), against ``json.loads`` of a body of the same length
  (the decoding every request already pays);
- who-is-in-the-group folding ``--pages`` pages of 200 connections through ``Facade.forward``,
  against paging the same stand-in with a bare ``requests.Session`` and a precomputed token
  (the same upstream answers both, so its own cost cancels out of the ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.constants import DEV_ACCESS_KEY as ACCESS_KEY
from devstack.loopback import LoopbackHTTPServer

TYPICAL = "userId in ('user1', 'user2', 'user3') and 'group1' in groups"


class PagedUpstream(LoopbackHTTPServer):
    """Answers page N (its continuation token) with 200 members and a nextLink to N+1, up to ``pages``."""

    def __init__(self, pages: int) -> None:
        members = [{"connectionId": f"c{i}", "userId": f"u{i % 37}"} for i in range(200)]
        self.bodies = [
            json.dumps({"value": members, **({"nextLink": f"https://x/?continuationToken={page + 1}"}
                                             if page < pages else {})}).encode()
            for page in range(1, pages + 1)
        ]
        super().__init__(self._handler_class(), name="bench-paged-upstream")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle and the client's
                # delayed ACK add ~40 ms to every page and the figure measures TCP, not the facade.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                token = dict(parse_qsl(urlsplit(self.path).query)).get("continuationToken", "1")
                body = upstream.bodies[int(token) - 1]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def per_call(fn: Callable[[], object], repeats: int) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def filter_figures() -> list[str]:
    from functions.catalog.odata.filter import MAX_FILTER_LENGTH, check_filter

    longest = " or ".join(f"userId eq 'user{i:03d}'" for i in range(200))[:MAX_FILTER_LENGTH]
    longest = longest[:longest.rfind(" or ")]
    lines = []
    for name, text, repeats in (("typical", TYPICAL, 5000), (f"{len(longest)} characters", longest, 300)):
        encoded = json.dumps(text)
        checked = per_call(lambda t=text: check_filter(t), repeats)
        decoded = per_call(lambda e=encoded: json.loads(e), repeats)
        lines.append(f"filter check, {name}: {checked * 1e6:.0f} us vs json.loads of it {decoded * 1e6:.1f} us")
    return lines


def group_users_figure(pages: int, rounds: int = 5) -> str:
    import requests

    with PagedUpstream(pages) as upstream:
        os.environ["AzureSignalRConnectionString"] = (
            f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={ACCESS_KEY};Version=1.0;")
        from functions.catalog.operations import OPERATIONS_BY_NAME
        from functions.core.command import build_command
        from functions.core.facade import get_facade

        facade = get_facade()
        command = build_command(OPERATIONS_BY_NAME["listUsersInGroup"], {"hub": "chat", "group": "g"})
        url = f"{upstream.url}/api/hubs/chat/groups/g/connections"
        token = facade.client.credential.bearer(url)
        session = requests.Session()

        def through_facade() -> int:
            return facade.forward(command).body["connections"]

        def bare() -> int:
            total, token_query = 0, ""
            while True:
                answer = session.get(f"{url}?api-version=2024-12-01&maxpagesize=200{token_query}",
                                     headers={"Authorization": f"Bearer {token}"}).json()
                total += len(answer["value"])
                if "nextLink" not in answer:
                    return total
                next_token = dict(parse_qsl(urlsplit(answer["nextLink"]).query))["continuationToken"]
                token_query = f"&continuationToken={next_token}"

        assert through_facade() == bare() == pages * 200
        ratios, facade_times, bare_times = [], [], []
        for _ in range(rounds):
            started = time.perf_counter()
            through_facade()
            facade_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            bare()
            bare_times.append(time.perf_counter() - started)
            ratios.append(facade_times[-1] / bare_times[-1])
        return (f"who is in the group, {pages} pages ({pages * 200} connections): facade "
                f"{statistics.median(facade_times) * 1000:.0f} ms vs bare paging "
                f"{statistics.median(bare_times) * 1000:.0f} ms, ratio {statistics.median(ratios):.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.newer_ops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=50, help="pages of 200 connections (default 50: the cap)")
    args = parser.parse_args(argv)
    for line in [*filter_figures(), group_users_figure(args.pages)]:
        print(line)


if __name__ == "__main__":
    main()
