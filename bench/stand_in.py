"""A lean keep-alive loopback server standing in for SignalR's REST API.

It answers every request ``202`` with an empty body and only counts what it got: the
recording stand-in of the tests keeps every request, which would make a 5,000-request run
measure list growth. Both sides of a benchmark talk to the same instance, so its own cost
is shared and cancels out of the ratio.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

from devstack.loopback import LoopbackHTTPServer

STATS_PATH = "/_stand_in/stats"  # GET: {"received": n, "lastAt": epoch seconds}; not counted


class CountingUpstream(LoopbackHTTPServer):
    def __init__(self, status: int = 202, *, delay: float = 0.0, backlog: int = 5, port: int = 0) -> None:
        self.status = status
        self.delay = delay  # seconds before each answer: a realistic round trip to the service
        self._counter = itertools.count()
        self._seen = 0
        self.last_at = 0.0
        super().__init__(self._handler_class(), name="bench-upstream", backlog=backlog, port=port)

    @property
    def received(self) -> int:
        return self._seen

    def _count(self) -> None:
        # itertools.count is atomic under the GIL: no lock on the hot path.
        self._seen = next(self._counter) + 1
        self.last_at = time.time()  # when the last request arrived (a benchmark's clock stops there)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        upstream = self
        status = self.status
        delay = self.delay

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real service

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if self.path == STATS_PATH:  # what it got, for a benchmark running it as a process
                    stats = json.dumps({"received": upstream.received, "lastAt": upstream.last_at}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(stats)))
                    self.end_headers()
                    self.wfile.write(stats)
                    return
                upstream._count()
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.stand_in --port N [--delay S]``: serve until terminated (its CPU stays out of ours)."""
    import argparse
    import signal

    from devstack.stop_flag import StopFlag

    parser = argparse.ArgumentParser(prog="python -m bench.stand_in")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    done = StopFlag().on_signals(signal.SIGTERM)
    with CountingUpstream(delay=args.delay, backlog=64, port=args.port):
        while not done.wait(60):
            pass


if __name__ == "__main__":
    main()


def _bare_token(path: str) -> str:
    """The hand-written baselines' upstream token: HS256 for the path, signed with the dev key."""
    import time

    import jwt

    from devstack.constants import DEV_ACCESS_KEY

    now = int(time.time())
    return jwt.encode({"aud": f"http://127.0.0.1{path}", "iat": now, "exp": now + 3600}, DEV_ACCESS_KEY,
                      algorithm="HS256")


@contextlib.contextmanager
def answered_in_process(status: int = 202) -> Iterator[None]:
    """The facade's upstream exchange answered in-process: its urllib3 pool hands back a canned
    answer, so a timing holds everything the facade does except the HTTP exchange itself."""
    import urllib3

    from functions.core.facade import get_facade

    pool = get_facade().client.transport.pool
    answer = urllib3.HTTPResponse(body=b"", status=status, preload_content=True)
    pool.urlopen = lambda *args, **kwargs: answer  # type: ignore[method-assign]
    try:
        yield
    finally:
        del pool.urlopen  # the class's method again


def bare_sender(path: str, payload: dict[str, Any], pool_size: int = 10) -> tuple[Any, dict[str, str], dict[str, Any]]:
    """The baselines' hand-written SignalR call: (session, headers, body) for a POST to ``path``.

    An HS256 token for the path signed with the dev key, the REST API's PascalCase body, and a
    ``requests.Session`` set up as the facade's (``trust_env`` off: otherwise requests reads proxy
    settings and ~/.netrc on every call, and the baseline would measure that instead).
    """
    import requests

    session = requests.Session()
    session.trust_env = False
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=pool_size))
    body = {"Target": payload["target"], "Arguments": payload["arguments"]}
    return session, {"Authorization": f"Bearer {_bare_token(path)}"}, body


def bare_urllib3_sender(port: int, path: str, payload: dict[str, Any],
                        pool_size: int = 10) -> tuple[Any, dict[str, str], bytes]:
    """The same call as ``bare_sender`` on the transport the facade uses (an urllib3 pool): (pool, headers, body).

    The facade's own cost is the facade minus this: the HTTP exchange itself is the same on both sides.
    """
    import json

    import urllib3

    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=pool_size, block=False, retries=False,
                                      timeout=urllib3.Timeout(connect=3.05, read=10))
    body = json.dumps({"Target": payload["target"], "Arguments": payload["arguments"]},
                      separators=(",", ":")).encode()
    return pool, {"Authorization": f"Bearer {_bare_token(path)}", "Content-Type": "application/json"}, body
