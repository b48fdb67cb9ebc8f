"""What the upstream receiver costs: ``python -m bench.events.run [--requests N]``.

Side by side, in process, the same signed ``messages`` request (a client's ``send`` with a
chat-sized argument list) ``--requests`` times per side, median per request, printed (no
goal: a reported figure, like ``bench.newer_ops``):

- facade: the registered ``upstreamEvent`` function, as the worker calls it: signature check
  against both keys in constant time, every header and body rule, I-JSON decoding, the
  envelope, ``json.dumps`` onto the queue output binding, the 204;
- baseline: the least any receiver does: one HMAC-SHA256 compared with ``hmac.compare_digest``,
  ``json.loads`` of the body, ``json.dumps`` of a dict of the same fields.

The queue write itself (the host's, after the function returns) is the same on both sides and
left out; ``tests/e2e/stack/test_upstream_events.py`` measures the whole path through Azurite.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import azure.functions as func

from devstack.constants import DEV_ACCESS_KEY as ACCESS_KEY
from devstack.emulator.upstream import signature

SECOND_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
CONNECTION_ID = "yqgFSdl7FAg3-iSZk4M7VA"
BODY = (json.dumps({"type": 1, "target": "newMessage",
                    "arguments": ["ana", {"text": "hello everyone, how is it going? " * 3, "room": "blue"}]})
        + "\x1e").encode()
HEADERS = {"Content-Type": "application/json", "X-ASRS-Hub": "chat", "X-ASRS-Category": "messages",
           "X-ASRS-Event": "newMessage", "X-ASRS-Connection-Id": CONNECTION_ID, "X-ASRS-User-Id": "ana",
           "X-ASRS-User-Claims": "nameid: ana", "X-ASRS-Client-Query": "?room=blue",
           "X-ASRS-Signature": ",".join(signature(CONNECTION_ID, k) for k in (ACCESS_KEY, SECOND_KEY))}
ROUTE = {"hub": "chat", "category": "messages", "event": "newMessage"}


class Out(func.Out):
    def __init__(self) -> None:
        self.value: str | None = None

    def set(self, val: str) -> None:
        self.value = val

    def get(self) -> str | None:
        return self.value


def request() -> func.HttpRequest:
    return func.HttpRequest("POST", "http://127.0.0.1/api/upstream/chat/messages/newMessage", headers=HEADERS,
                            params={}, route_params=ROUTE, body=BODY)


def facade_call() -> Callable[[], None]:
    os.environ.update({"AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1;Port=1;AccessKey={ACCESS_KEY};"
                                                       "Version=1.0;",
                       "SIGNALR_UPSTREAM_KEYS": SECOND_KEY, "SIGNALR_EVENTS_QUEUE": "signalr-events"})
    import function_app

    function = next(f for f in function_app.app.get_functions()
                    if f.get_function_name() == "upstreamEvent").get_user_function()

    def call() -> None:
        out = Out()
        response = function(request(), events=out)
        if response.status_code != 204 or out.value is None:
            raise RuntimeError(f"the receiver answered {response.status_code}")

    return call


def baseline_call() -> Callable[[], None]:
    key = ACCESS_KEY.encode()

    def call() -> None:
        req = request()
        expected = "sha256=" + hmac.new(key, req.headers["X-ASRS-Connection-Id"].encode(), hashlib.sha256).hexdigest()
        given = req.headers["X-ASRS-Signature"].split(",")[0].lower()
        if not hmac.compare_digest(expected, given):
            raise RuntimeError("baseline signature mismatch")
        message = json.loads(req.get_body().rstrip(b"\x1e"))
        envelope = {"hub": req.headers["X-ASRS-Hub"], "connectionId": req.headers["X-ASRS-Connection-Id"],
                    "target": message["target"], "arguments": message["arguments"],
                    "receivedAt": datetime.now(UTC).isoformat()}
        Out().set(json.dumps(envelope))
        func.HttpResponse(b"", status_code=204)

    return call


def per_request(call: Callable[[], None], requests: int, rounds: int = 5) -> float:
    """Median over ``rounds`` of the mean time per request, in µs."""
    for _ in range(min(200, requests)):
        call()  # warm-up: imports, caches
    means = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(requests):
            call()
        means.append((time.perf_counter() - started) / requests * 1e6)
    return statistics.median(means)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.events.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per side per round (default 2000)")
    args = parser.parse_args(argv)
    facade, baseline = facade_call(), baseline_call()
    facade_us = per_request(facade, args.requests)
    baseline_us = per_request(baseline, args.requests)
    print("| figure | facade | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| one signed upstream `send` turned into a queued envelope (per request, median of 5 rounds of "
          f"{args.requests:,}) | {facade_us:.0f} µs | {baseline_us:.0f} µs | {facade_us / baseline_us:.2f}× |")
    print(f"|   the receiver's own rules and checks (facade − baseline) | {facade_us - baseline_us:.0f} µs | — | — |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
