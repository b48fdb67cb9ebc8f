"""A threaded HTTP server on 127.0.0.1, the base of the project's loopback stand-ins."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackHTTPServer:
    """Serves ``handler`` on a loopback port (a free one unless ``port`` is given) from a daemon
    thread; a context manager."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], *, name: str, backlog: int = 5, port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler, bind_and_activate=False)
        self._server.daemon_threads = True
        self._server.request_queue_size = backlog
        self._server.server_bind()
        self._server.server_activate()
        self.scheme = "https" if tls is not None else "http"
        if tls is not None:
            # The handshake happens on the first read, in the request's own thread, not in accept().
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
