"""Hand-made hostile requests against a running stack: each must be refused with a 4xx problem.

Schemathesis generates from the document, so it never sends what the document cannot describe:
bodies nested thousands deep, JSON holding lone UTF-16 surrogates, bytes that are not UTF-8 in a
body, a path segment or a query. ``bench.fuzz`` sends these through the real local host after
its schemathesis run; the unit-level property test (tests/slow/resilience/test_hostile_input.py)
drives the functions with generated ones.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

SEND = "/api/v1/hubs/chat"
DEEP = 5000


@dataclass(frozen=True)
class Hostile:
    name: str
    method: str
    path: str
    body: bytes = b""
    # A path segment is decoded by the host before the function sees it, into valid text (Kestrel
    # keeps bytes that are not UTF-8 percent-encoded; the local host replaces them with U+FFFD), so
    # such a request may be served under that name: it must only never fail (5xx).
    must_refuse: bool = True


def _payload_text(arguments: str, target: str = '"t"') -> bytes:
    return ('{"target": ' + target + ', "arguments": ' + arguments + "}").encode("ascii")


HOSTILE = (
    Hostile("arrays nested 5,000 deep", "POST", SEND, _payload_text("[" * DEEP + "]" * DEEP)),
    Hostile("objects nested 5,000 deep", "POST", SEND, _payload_text("[" + '{"a":' * DEEP + "1" + "}" * DEEP + "]")),
    Hostile("unclosed nesting 100,000 deep", "POST", SEND, _payload_text("[" * 100_000)),
    Hostile("a lone high surrogate in an argument", "POST", SEND, _payload_text('["\\ud800"]')),
    Hostile("a lone low surrogate in the target", "POST", SEND, _payload_text("[]", '"\\udc00x"')),
    Hostile("a lone surrogate in an object key", "POST", SEND, _payload_text('[{"\\udbff": 1}]')),
    Hostile("body bytes that are not UTF-8", "POST", SEND, b'{"target": "t", "arguments": ["\xff\xfe"]}'),
    Hostile("an encoded surrogate in a path segment", "POST", f"{SEND}/groups/%ED%A0%80", _payload_text("[]"),
            must_refuse=False),
    Hostile("a truncated UTF-8 sequence in a path segment", "GET", f"{SEND}/users/%F0%9F", must_refuse=False),
    Hostile("an encoded surrogate in a query value", "POST", f"{SEND}?excluded=%ED%A0%80", _payload_text("[]")),
    Hostile("a line break in a connection id", "DELETE", f"{SEND}/connections/a%0Ab"),
)


@dataclass(frozen=True)
class HostileResult:
    name: str
    status: int
    problem: bool
    must_refuse: bool

    @property
    def refused(self) -> bool:
        return 400 <= self.status < 500 and (self.problem or self.status == 404)

    @property
    def passed(self) -> bool:
        return self.refused if self.must_refuse else self.status < 500


def send_hostile(base_url: str, token: str, *, timeout: float = 30) -> list[HostileResult]:
    """Send every hostile request once; the answers, in order."""
    parts = urlsplit(base_url)
    results = []
    for hostile in HOSTILE:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            connection.request(hostile.method, hostile.path, body=hostile.body or None, headers=headers)
            response = connection.getresponse()
            body = response.read()
            problem = response.getheader("Content-Type", "").startswith("application/problem+json")
            if problem:
                json.loads(body)
            results.append(HostileResult(hostile.name, response.status, problem, hostile.must_refuse))
        finally:
            connection.close()
    return results
