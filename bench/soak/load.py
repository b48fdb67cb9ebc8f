"""The steady load of ``bench.soak.run``: HTTP operations at a fixed rate, and queue commands.

HTTP: a schedule of send times (``rate`` per second) shared by a pool of threads, so a slow
answer delays no later request; every answer is counted by status and checked against the
statuses the OpenAPI document lists for that operation. Queue: commands with a correlation id
in their arguments (valid) or in their ``id`` (invalid on purpose: they must be dead-lettered).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from bench.faults import CORRELATION_PREFIX
from functions.catalog.operations import OPERATIONS, OperationSpec
from functions.http.openapi import openapi_document

CLIENT_TIMEOUT = 60.0  # longer than any answer the facade may take (3 retries, 10 s read timeout)


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    url: str
    documented: frozenset[int]
    body: Any = None
    token: bool = True
    content_type: str = "application/json"


def _documented(path: str, method: str) -> frozenset[int]:
    responses = openapi_document()["paths"][path][method.lower()]["responses"]
    return frozenset(int(code) for code in responses)


QUERY = {"excluded": "excluded=conn-1&excluded=conn-2", "ttl": "ttl=60", "reason": "reason=soak",
         "maxpagesize": "maxpagesize=2", "top": "top=5", "filter": "filter=userId%20eq%20%27user-1%27"}


def _value(name: str, rng: random.Random) -> str:
    return {"group": f"room-{rng.randrange(5)}", "user": f"user-{rng.randrange(7)}",
            "connectionId": f"conn-{rng.randrange(9)}"}[name]


def _catalog_call(base_url: str, spec: OperationSpec, method: str, rng: random.Random, n: int) -> Call:
    values = {"hub": "soak"} | {p.name: _value(p.name, rng) for p in spec.params
                                if p.location == "path" and p.name != "hub"}
    url = f"{base_url}/api/" + spec.path.format(**{k: quote(v, safe="") for k, v in values.items()})
    # A continuation token is only valid as the facade issued it: the load leaves it out.
    chosen = [QUERY[p.name] for p in spec.query_params if p.name in QUERY and (p.required or rng.random() < 0.5)]
    url += ("?" + "&".join(chosen)) if chosen else ""
    message = {"target": "soak", "arguments": [f"http-{n}", n]}
    body: Any = None
    if spec.body is not None:
        body = [{"type": "SendMessage", "message": message}] if spec.body.queue_field == "commands" else message
    return Call(spec.name, method, url, _documented(f"/api/{spec.path}", method), body)


def next_call(base_url: str, rng: random.Random, n: int) -> Call:
    """One request of the mix: mostly catalog operations, some negotiate/health, a few refusals."""
    roll = rng.random()
    if roll < 0.05:
        return Call("negotiate", "POST", f"{base_url}/api/v1/hubs/soak/negotiate",
                    _documented("/api/v1/hubs/{hub}/negotiate", "POST"))
    if roll < 0.07:
        return Call("health", "GET", f"{base_url}/api/health", _documented("/api/health", "GET"), token=False)
    broadcast = _documented("/api/v1/hubs/{hub}", "POST")
    if roll < 0.09:  # refusals: no token, bad hub, not JSON
        return rng.choice([
            Call("broadcast/no-token", "POST", f"{base_url}/api/v1/hubs/soak", broadcast, {"target": "t"}, False),
            Call("broadcast/bad-hub", "POST", f"{base_url}/api/v1/hubs/1soak", broadcast, {"target": "t"}),
            Call("broadcast/not-json", "POST", f"{base_url}/api/v1/hubs/soak", broadcast, {"target": "t"},
                 content_type="text/plain"),
        ])
    spec = rng.choice(OPERATIONS)
    return _catalog_call(base_url, spec, rng.choice(spec.http_methods), rng, n)


@dataclass
class HttpResults:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    undocumented: Counter[str] = field(default_factory=Counter)  # "name status"
    no_answer: Counter[str] = field(default_factory=Counter)  # exception type
    unauthorized: int = 0  # 401s to requests that carried a valid token
    lock: threading.Lock = field(default_factory=threading.Lock)


class HttpLoad:
    """``rate`` requests per second from ``threads`` threads until ``deadline`` (monotonic)."""

    def __init__(self, base_url: str, token: Callable[[], str], rate: float, seed: int, threads: int = 24) -> None:
        self.base_url, self.token, self.rate, self.seed = base_url, token, rate, seed
        self.results = HttpResults()
        self._threads = threads
        self._next = 0
        self._lock = threading.Lock()

    def run(self, deadline: float) -> None:
        start = time.monotonic()
        workers = [threading.Thread(target=self._work, args=(i, start, deadline), name=f"soak-http-{i}")
                   for i in range(self._threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(deadline - time.monotonic() + CLIENT_TIMEOUT + 5)

    def _ticket(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def _work(self, index: int, start: float, deadline: float) -> None:
        session = requests.Session()
        session.trust_env = False
        rng = random.Random(self.seed * 1000 + index)
        try:
            while True:
                n = self._ticket()
                due = start + n / self.rate
                if due >= deadline:
                    return
                time.sleep(max(0.0, due - time.monotonic()))
                self._send(session, next_call(self.base_url, rng, n))
        finally:
            session.close()

    def _send(self, session: requests.Session, call: Call) -> None:
        headers = {"Authorization": f"Bearer {self.token()}"} if call.token else {}
        data = None
        if call.body is not None:
            data = json.dumps(call.body).encode()
            headers["Content-Type"] = call.content_type
        results = self.results
        try:
            response = session.request(call.method, call.url, data=data, headers=headers, timeout=CLIENT_TIMEOUT)
        except requests.RequestException as e:
            with results.lock:
                results.sent += 1
                results.no_answer[type(e).__name__] += 1
            return
        status = response.status_code
        with results.lock:
            results.sent += 1
            results.statuses[status] += 1
            if status not in call.documented:
                results.undocumented[f"{call.name} {status}"] += 1
            if status == 401 and call.token:
                results.unauthorized += 1


SEND_OPERATIONS = (("broadcast", {}), ("sendToGroup", {"group": "room-1"}), ("sendToUser", {"user": "user-1"}),
                   ("sendToConnection", {"connectionId": "conn-1"}))


def queue_command(n: int, rng: random.Random, invalid_share: float) -> tuple[str, str, bool]:
    """(correlation id, message text, valid?)."""
    cid = f"{CORRELATION_PREFIX}{n}"
    operation, fields = rng.choice(SEND_OPERATIONS)
    valid = rng.random() >= invalid_share
    message = {"operation": operation, "hub": "soak" if valid else "1-not-a-hub", **fields,
               "payload": {"target": "soak", "arguments": [cid, n]}, "id": cid}
    return cid, json.dumps(message), valid
