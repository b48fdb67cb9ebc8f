"""An HTTP broadcast with an ``Idempotency-Key`` vs the same broadcast without one, side by side.

The facade runs in this process (the registered ``broadcast`` function called with a
``func.HttpRequest``, as the worker does), its upstream is the lean stand-in, and its idempotency
records go to a fresh Azurite table service (its own process) on this machine. Each keyed request has
a new key, so each pays a first request's cost: the reservation (an insert) and the completion (a
conditional replace), the two Table round trips a keyed command costs. A third side repeats one
recorded key: the replay, two round trips (the insert that conflicts, then the read). Rounds rotate
the order; each figure is the median over rounds of the per-round median. The Table round trips
are counted by azure-core's own transport, wrapped.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable

from bench.results import BenchResult, Row, median, ms
from bench.sizes import Sizes
from bench.stand_in import CountingUpstream
from devstack.constants import DEV_ACCESS_KEY as ACCESS_KEY

PAYLOAD = {"target": "newMessage", "arguments": ["idempotency", 1]}
WARM_UP = 20


def _counting_transport():
    from azure.core.pipeline.transport import RequestsTransport

    class Counting(RequestsTransport):
        def __init__(self) -> None:
            super().__init__()
            self.sent = 0
            self._lock = threading.Lock()

        def send(self, request, **kwargs):
            with self._lock:
                self.sent += 1
            return super().send(request, **kwargs)

    return Counting()


def run(sizes: Sizes) -> BenchResult:
    import azure.functions as func

    from devstack.azurite import AzuriteTable
    from devstack.idp import DevIdentityProvider

    result = BenchResult("idempotency")
    requests_per_side = sizes.idempotency_requests
    rounds = sizes.idempotency_rounds
    with CountingUpstream() as upstream, DevIdentityProvider() as idp, AzuriteTable() as azurite:
        os.environ.update({
            "AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1;Port={upstream.port};"
                                            f"AccessKey={ACCESS_KEY};Version=1.0;",
            "ENTRA_TENANT_ID": idp.tenant_id,
            "ENTRA_AUDIENCES": idp.audience,
            "ENTRA_METADATA_URL": idp.metadata_url,
            "SIGNALR_COMMANDS_STORAGE": azurite.connection_string,
            "SIGNALR_IDEMPOTENCY_TABLE": "benchidempotency",
            "SIGNALR_CALLER_LIMIT": "0",  # thousands of requests from one caller: the per-caller budget is not measured
        })
        for name in ("ENTRA_ALLOWED_TENANTS", "SIGNALR_ALLOWED_HUBS", "ENTRA_ACCEPT_V1_TOKENS"):
            os.environ.pop(name, None)
        import function_app
        from functions.core.facade import get_facade, reset_facade
        from functions.core.idempotency.store import table_client

        reset_facade()
        store = get_facade().idempotency
        transport = _counting_transport()
        store._factory = lambda: table_client(store.settings, transport=transport)  # count round trips
        broadcast = {f.get_function_name(): f for f in function_app.app.get_functions()}["broadcast"] \
            .get_user_function()
        authorization = f"Bearer {idp.mint(roles=['SignalR.Send'])}"
        body = json.dumps(PAYLOAD).encode()

        def request(key: str | None) -> func.HttpRequest:
            headers = {"Authorization": authorization, "Content-Type": "application/json"}
            if key is not None:
                headers["Idempotency-Key"] = key
            return func.HttpRequest("POST", "http://127.0.0.1:7071/api/v1/hubs/chat", params={}, headers=headers,
                                    route_params={"hub": "chat"}, body=body)

        plain = request(None)
        replayed = request("replayed-key")
        statuses: dict[str, dict[int, int]] = {"keyed": {}, "plain": {}, "replay": {}}
        replay_headers: set[str] = set()

        def call(side: str) -> Callable[[], None]:
            def once() -> None:
                if side == "keyed":
                    answer = broadcast(request(uuid.uuid4().hex))
                elif side == "replay":
                    answer = broadcast(replayed)
                    replay_headers.add(answer.headers.get("Idempotent-Replayed", ""))
                else:
                    answer = broadcast(plain)
                statuses[side][answer.status_code] = statuses[side].get(answer.status_code, 0) + 1
            return once

        for side in ("plain", "keyed", "replay"):  # connections, the token cache, the table, the replayed record
            for _ in range(WARM_UP):
                call(side)()
        statuses = {"keyed": {}, "plain": {}, "replay": {}}
        replay_headers.clear()
        received_before = upstream.received
        per_round: dict[str, list[float]] = {"keyed": [], "plain": [], "replay": []}
        trips: dict[str, int] = {"keyed": 0, "plain": 0, "replay": 0}
        per_side = max(1, requests_per_side // rounds)
        for n in range(rounds):
            order = ("keyed", "plain", "replay")[n % 3:] + ("keyed", "plain", "replay")[:n % 3]
            for side in order:
                one = call(side)
                times = []
                before = transport.sent
                for _ in range(per_side):
                    started = time.perf_counter()
                    one()
                    times.append(time.perf_counter() - started)
                trips[side] += transport.sent - before
                per_round[side].append(median(times))
        sent = per_side * rounds
        figures = {side: median(values) for side, values in per_round.items()}
        upstream_received = upstream.received - received_before
    result.rows.append(Row(f"HTTP broadcast with an Idempotency-Key (a new key each) vs without, against Azurite "
                           f"(median of {rounds} rounds' medians, {sent} requests per side)",
                           ms(figures["keyed"]), ms(figures["plain"]), figures["keyed"] / figures["plain"]))
    result.rows.append(Row("  added by the key (reserve + complete)", ms(figures["keyed"] - figures["plain"]), "—"))
    result.rows.append(Row("  Table round trips per keyed command (counted)", f"{trips['keyed'] / sent:.2f}",
                           f"{trips['plain'] / sent:.2f}"))
    result.rows.append(Row("  a repeat of a recorded key, answered from its record (nothing sent) vs without a key",
                           ms(figures["replay"]), ms(figures["plain"]), figures["replay"] / figures["plain"]))
    result.checks = {"sent_per_side": sent, "statuses": {k: {str(s): c for s, c in v.items()}
                                                         for k, v in statuses.items()},
                     "upstream_received": upstream_received, "upstream_expected": 2 * sent,
                     "table_round_trips": trips, "replay_headers": sorted(replay_headers)}
    if upstream_received != 2 * sent:
        result.errors.append(f"idempotency: the upstream got {upstream_received}, expected {2 * sent} "
                             "(the keyed and plain sides; replays send nothing)")
    result.notes.append(
        "Idempotency: the registered broadcast function called in this process, the lean stand-in upstream, and a "
        "fresh Azurite table service (its own process, in memory) for the records. Keyed: a new Idempotency-Key "
        "per request (an insert to reserve, a conditional replace to complete); replay: one recorded key repeated "
        "(the insert conflicts, the record is read and its answer replayed, nothing is sent). Azurite on loopback "
        "is faster than Azure Table Storage in the same region (a few ms per round trip there), so the added cost "
        "in Azure is about two Table round trips.")
    return result
