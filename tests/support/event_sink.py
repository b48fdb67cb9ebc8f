"""A loopback HTTP server standing in for an app's upstream: it records every POST and
answers with a scripted status per event (204 by default)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes


class EventSink:
    def __init__(self) -> None:
        self.posts: list[Posted] = []
        self.status_for: dict[str, tuple[int, bytes]] = {}  # last path segment -> (status, body)
        self._changed = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink._changed:
                    sink.posts.append(Posted(self.path, dict(self.headers.items()), body))
                    sink._changed.notify_all()
                status, answer = sink.status_for.get(self.path.rsplit("/", 1)[-1], (204, b""))
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def template(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/upstream/{{hub}}/{{category}}/{{event}}"

    def start(self) -> EventSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Posted]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.posts) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self.posts)} of {count} upstream posts within {timeout}s")
                self._changed.wait(remaining)
            return list(self.posts)
