"""A real loopback HTTP server that stands in for SignalR and records what it receives.

Answers come from a script (``answer(...)``) or a default per method, so tests can assert
the exact upstream request and inject faults: statuses, Retry-After, delays, dropped
connections.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.loopback import LoopbackHTTPServer


@dataclass
class Recorded:
    method: str
    raw_path: str  # as sent on the wire, still percent-encoded
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return urlsplit(self.raw_path).path

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def bearer(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


@dataclass
class Rule:
    """Answer requests whose path starts with ``prefix`` (``times`` of them, or all when None)."""

    prefix: str
    answer: Answer
    times: int | None = None


DEFAULT_STATUS = {"POST": 202, "PUT": 202, "DELETE": 202, "GET": 200, "HEAD": 200}


class RecordingUpstream(LoopbackHTTPServer):
    def __init__(self, port: int = 0) -> None:
        self.requests: list[Recorded] = []
        self._script: deque[Answer] = deque()
        self.rules: list[Rule] = []
        self.default: Answer | None = None
        self._lock = threading.Lock()
        super().__init__(self._handler_class(), name="recording-upstream", port=port)

    def answer(self, *answers: Answer) -> None:
        """Queue answers for the next requests (then the default resumes)."""
        with self._lock:
            self._script.extend(answers)

    def requests_to(self, prefix: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self.rules.clear()
            self.default = None

    def add_rule(self, rule: Rule) -> None:
        with self._lock:
            self.rules.append(rule)

    def _next(self, method: str, path: str) -> Answer:
        with self._lock:
            for rule in self.rules:
                if path.startswith(rule.prefix) and (rule.times is None or rule.times > 0):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule.answer
            if self._script:
                return self._script.popleft()
            return self.default or Answer(DEFAULT_STATUS.get(method, 200))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real service

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with upstream._lock:
                    upstream.requests.append(Recorded(
                        self.command, self.path, parse_qsl(urlsplit(self.path).query, keep_blank_values=True),
                        {k.lower(): v for k, v in self.headers.items()}, body,
                    ))
                answer = upstream._next(self.command, urlsplit(self.path).path)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler
