"""A lean keep-alive loopback server standing in for SignalR's REST API.

It answers every request ``202`` with an empty body and only counts what it got: the
recording stand-in of the tests keeps every request, which would make a 5,000-request run
measure list growth. Both sides of a benchmark talk to the same instance, so its own cost
is shared and cancels out of the ratio.
"""

from __future__ import annotations

import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CountingUpstream:
    def __init__(self, status: int = 202) -> None:
        self.status = status
        self._counter = itertools.count()
        self._seen = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="bench-upstream", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def received(self) -> int:
        return self._seen

    def start(self) -> CountingUpstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> CountingUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self) -> None:
        # itertools.count is atomic under the GIL: no lock on the hot path.
        self._seen = next(self._counter) + 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        upstream = self
        status = self.status

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real service

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                upstream._count()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler
