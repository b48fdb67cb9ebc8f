"""A SignalR stand-in on loopback that injects faults from a seeded mix, for ``bench.soak.run``.

Each request draws one outcome: a normal answer (what the REST API v1 answers for that route),
503, 429 with ``Retry-After: 1``, a slow answer, one slower than the facade's read timeout, or
a dropped connection (closed without a word). Sends whose arguments carry a correlation id
(a string starting with ``CORRELATION_PREFIX``) are counted when they are *accepted*, i.e.
answered 2xx, so the soak can tell delivered queue commands from lost ones. ``faults_enabled``
off makes the service healthy again (the soak's drain phase); ``down`` makes it an instance that is
gone (every connection closed unanswered: the soak's endpoint outage).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from devstack.loopback import LoopbackHTTPServer

CORRELATION_PREFIX = "soak-"


@dataclass(frozen=True)
class FaultMix:
    """Probabilities per upstream request; the rest is answered normally."""

    unavailable: float = 0.05  # 503
    throttled: float = 0.05  # 429 + Retry-After: 1
    slow: float = 0.04  # answered after 0.3-1.5 s
    too_slow: float = 0.003  # answered after `too_slow_seconds`: the facade gives up first (504)
    dropped: float = 0.02  # connection closed, no answer
    too_slow_seconds: float = 11.0  # > the facade's 10 s read timeout

    def draw(self, rng: random.Random) -> str:
        roll = rng.random()
        for kind in ("unavailable", "throttled", "slow", "too_slow", "dropped"):
            roll -= getattr(self, kind)
            if roll < 0:
                return kind
        return "ok"


def success_status(method: str, path: str, rng: random.Random) -> int:
    """What SignalR REST v1 answers to a request it carries out (404 sometimes for checks)."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v1"] and parts[2:3] == ["health"]:
        return 200
    if parts[:3] != ["api", "v1", "hubs"] or len(parts) < 4:
        return 404
    rest = parts[4:]
    if method in ("GET", "HEAD"):
        return 200 if rng.random() < 0.7 else 404
    if len(rest) == 4 and rest[0] == "groups" and rest[2] == "connections":
        return 200  # add/remove connection to/from group
    if method == "DELETE" and len(rest) == 3 and rest[0] == "users" and rest[2] == "groups":
        return 200  # remove user from all groups
    return 202


def correlation_ids(body: bytes) -> list[str]:
    try:
        arguments = json.loads(body).get("Arguments", [])
    except (ValueError, AttributeError):
        return []
    return [a for a in arguments if isinstance(a, str) and a.startswith(CORRELATION_PREFIX)] \
        if isinstance(arguments, list) else []


class FaultyUpstream(LoopbackHTTPServer):
    def __init__(self, mix: FaultMix | None = None, seed: int = 1) -> None:
        self.mix = mix or FaultMix()
        self.faults_enabled = True
        self.down = False  # a SignalR instance that is gone: every connection is closed unanswered
        self.outcomes: Counter[str] = Counter()  # by fault kind ("ok" included)
        self.accepted: Counter[str] = Counter()  # correlation id -> 2xx answers carrying it
        # Correlation ids accepted but answered after the facade stopped waiting: the answer was lost, so
        # the facade counts the command as not executed and a retry may deliver it again (by design).
        self.answer_lost: set[str] = set()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        # A deep backlog: the facade opens a pooled connection per worker.
        super().__init__(self._handler_class(), name="faulty-upstream", backlog=128)

    def _decide(self, method: str, path: str) -> tuple[str, int]:
        with self._lock:  # one seeded stream, drawn under the lock: reproducible mix
            kind = self.mix.draw(self._rng) if self.faults_enabled else "ok"
            self.outcomes[kind] += 1
            return kind, success_status(method, path, self._rng)

    def _record(self, body: bytes, *, answer_lost: bool = False) -> None:
        ids = correlation_ids(body)
        if ids:
            with self._lock:
                self.accepted.update(ids)
                if answer_lost:
                    self.answer_lost.update(ids)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real service

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if upstream.down:
                    self.close_connection = True
                    self.connection.close()
                    return
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    self._answer(401)
                    return
                kind, status = upstream._decide(self.command, urlsplit(self.path).path)
                if kind == "dropped":
                    self.close_connection = True
                    self.connection.close()
                    return
                if kind == "unavailable":
                    self._answer(503)
                    return
                if kind == "throttled":
                    self._answer(429, {"Retry-After": "1"})
                    return
                if kind == "slow":
                    time.sleep(random.uniform(0.3, 1.5))
                elif kind == "too_slow":
                    time.sleep(upstream.mix.too_slow_seconds)
                if 200 <= status < 300:
                    # Counted as accepted even when the facade stopped waiting: the service did it.
                    upstream._record(body, answer_lost=kind == "too_slow")
                try:
                    self._answer(status)
                except OSError:
                    pass  # the facade timed out and closed its end

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler
