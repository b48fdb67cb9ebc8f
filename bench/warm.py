"""Warm overhead: authenticated broadcasts through the registered function vs bare ``requests``.

Both sides post the same body to the same keep-alive upstream: the facade through its
registered ``broadcast`` function (token check from its cache, validation, authorization,
upstream token from its cache, pooled session), the baseline with one ``requests.Session``
and a precomputed upstream token. Rounds alternate A B / B A; each request is timed on its
own and the figure is the median over rounds of (facade median / baseline median).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from bench.results import BenchResult, Row, median, us
from bench.sizes import Sizes
from bench.upstream import CountingUpstream, bare_sender
from devstack.constants import DEV_ACCESS_KEY as ACCESS_KEY

PAYLOAD = {"target": "newMessage", "arguments": ["warm", 1]}
WARM_UP = 100
MICRO_REPEATS = 2_000


def _timed(call: Callable[[], int], count: int, statuses: dict[int, int]) -> list[float]:
    times = []
    clock = time.perf_counter
    for _ in range(count):
        started = clock()
        status = call()
        times.append(clock() - started)
        statuses[status] = statuses.get(status, 0) + 1
    return times


def _per_call(fn: Callable[[], object], repeats: int = MICRO_REPEATS) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def _facade_parts(request: object, authorization: str) -> dict[str, float]:
    """Seconds per call of each step the facade adds, timed without the network."""
    from functions.catalog import OPERATIONS
    from functions.facade import get_facade
    from functions.http_request import command_from_request

    spec = next(op for op in OPERATIONS if op.name == "broadcast")
    facade = get_facade()
    principal = facade.authenticate(authorization)
    command = command_from_request(spec, request)  # type: ignore[arg-type]
    client = facade.client
    url = client.url_for(command)
    return {
        "token check (cached)": _per_call(lambda: facade.authenticate(authorization)),
        "parse + validate": _per_call(lambda: command_from_request(spec, request)),  # type: ignore[arg-type]
        "authorize": _per_call(lambda: facade.authorize(principal, command)),
        "upstream URL + signing (cached)": _per_call(lambda: client.credential.bearer(client.url_for(command))),
        "upstream body": _per_call(lambda: json.dumps(command.payload.upstream() if command.payload else None)),
        "_url": len(url),
    }


def run(sizes: Sizes) -> BenchResult:
    import azure.functions as func

    from devstack.idp import DevIdentityProvider

    result = BenchResult("warm")
    with CountingUpstream() as upstream, DevIdentityProvider() as idp:
        os.environ.update({
            "AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1;Port={upstream.port};"
                                            f"AccessKey={ACCESS_KEY};Version=1.0;",
            "ENTRA_TENANT_ID": idp.tenant_id,
            "ENTRA_AUDIENCES": idp.audience,
            "ENTRA_METADATA_URL": idp.metadata_url,
        })
        for name in ("ENTRA_ALLOWED_TENANTS", "SIGNALR_ALLOWED_HUBS", "ENTRA_ACCEPT_V1_TOKENS"):
            os.environ.pop(name, None)
        import function_app
        from functions.facade import reset_facade

        reset_facade()
        functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
        broadcast = functions["broadcast"].get_user_function()
        authorization = f"Bearer {idp.mint(roles=['SignalR.Send'])}"
        body = json.dumps(PAYLOAD).encode()
        request = func.HttpRequest("POST", "http://127.0.0.1:7071/api/v1/hubs/chat", params={},
                                   headers={"Authorization": authorization, "Content-Type": "application/json"},
                                   route_params={"hub": "chat"}, body=body)

        url = f"{upstream.url}/api/v1/hubs/chat"
        session, headers, upstream_body = bare_sender("/api/v1/hubs/chat", PAYLOAD)

        def facade_call() -> int:
            return broadcast(request).status_code

        def baseline_call() -> int:
            return session.post(url, json=upstream_body, headers=headers, timeout=10).status_code

        sides = {"facade": facade_call, "baseline": baseline_call}
        statuses: dict[str, dict[int, int]] = {"facade": {}, "baseline": {}}
        for call in sides.values():  # connections, keys and caches warm; not counted
            _timed(call, WARM_UP, {})
        before = upstream.received
        per_round = max(1, sizes.warm_requests // sizes.warm_rounds)
        times: dict[str, list[float]] = {"facade": [], "baseline": []}
        ratios = []
        for i in range(sizes.warm_rounds):
            order = ("facade", "baseline") if i % 2 == 0 else ("baseline", "facade")
            round_medians = {}
            for side in order:
                sample = _timed(sides[side], per_round, statuses[side])
                times[side].extend(sample)
                round_medians[side] = median(sample)
            ratios.append(round_medians["facade"] / round_medians["baseline"])
        received = upstream.received - before
        parts = _facade_parts(request, authorization)
        session.close()
        reset_facade()
    parts.pop("_url")
    facade_us, baseline_us = median(times["facade"]), median(times["baseline"])
    sent = per_round * sizes.warm_rounds
    result.rows.append(Row(f"warm: one authenticated broadcast, {sent:,} per side (per request, median)",
                           us(facade_us), us(baseline_us), median(ratios), 1.05))
    result.rows.append(Row("  facade's own cost per request (facade − baseline median)",
                           us(facade_us - baseline_us), "—"))
    breakdown = ", ".join(f"{name} {seconds * 1e6:.1f} µs" for name, seconds in parts.items())
    result.notes.append(
        f"Warm: {sizes.warm_rounds} rounds of {per_round} requests per side, order alternating each round; "
        "ratio = median over rounds of the per-round median ratios. The facade side calls the registered "
        "function's user function with a func.HttpRequest (as the worker does) and its token is validated once, "
        "then served from the validator's cache by SHA-256 until it expires. Steps the facade adds, timed alone "
        f"({MICRO_REPEATS:,} calls each, no network): {breakdown}."
    )
    result.checks = {"sent_per_side": sent, "statuses": statuses, "upstream_received": received,
                     "upstream_expected": 2 * sent}
    if statuses["facade"] != {202: sent} or statuses["baseline"] != {202: sent} or received != 2 * sent:
        result.errors.append(f"warm: statuses {statuses}, upstream got {received} of {2 * sent}")
    return result
