"""Warm overhead: authenticated broadcasts through the registered function vs bare calls.

Three sides post the same message to the same keep-alive upstream: the facade through its
registered ``broadcast`` function (token check from its cache, validation, authorization,
upstream token from its cache, pooled connections); the baseline, a direct call with one
``requests.Session`` and a precomputed upstream token; and the same direct call on the
facade's own transport (an urllib3 pool), so that facade minus it is the facade's own cost,
the HTTP exchange being the same on both. Rounds rotate the order; each request is timed on
its own and every figure is the median over rounds of a per-round figure.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from bench.results import BenchResult, Row, median, us
from bench.sizes import Sizes
from bench.stand_in import CountingUpstream, answered_in_process, bare_sender, bare_urllib3_sender
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
    from functions.catalog.operations import OPERATIONS
    from functions.core.facade import get_facade
    from functions.http.request import command_from_request

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


def _in_process_cost(broadcast: Callable[[object], object], request: object,
                     repeats: int = 5 * MICRO_REPEATS) -> float:
    """Seconds per call of the whole function with the exchange answered in-process (a canned 202)."""
    with answered_in_process():
        return min(_per_call(lambda: broadcast(request), repeats) for _ in range(3))


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
            # One caller at full speed: a limit this high never refuses, so the bucket's own cost is measured.
            "SIGNALR_CALLER_LIMIT": "100000",
        })
        for name in ("ENTRA_ALLOWED_TENANTS", "SIGNALR_ALLOWED_HUBS", "ENTRA_ACCEPT_V1_TOKENS"):
            os.environ.pop(name, None)
        import function_app
        from functions.core.facade import reset_facade

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
        pool, pool_headers, pool_body = bare_urllib3_sender(upstream.port, "/api/v1/hubs/chat", PAYLOAD)

        def facade_call() -> int:
            return broadcast(request).status_code

        def baseline_call() -> int:
            return session.post(url, json=upstream_body, headers=headers, timeout=10).status_code

        def transport_call() -> int:
            return pool.urlopen("POST", "/api/v1/hubs/chat", body=pool_body, headers=pool_headers).status

        sides = {"facade": facade_call, "baseline": baseline_call, "transport": transport_call}
        statuses: dict[str, dict[int, int]] = {side: {} for side in sides}
        for call in sides.values():  # connections, keys and caches warm; not counted
            _timed(call, WARM_UP, {})
        before = upstream.received
        per_round = max(1, sizes.warm_requests // sizes.warm_rounds)
        times: dict[str, list[float]] = {side: [] for side in sides}
        ratios, own_costs, own_shares = [], [], []
        names = list(sides)
        clock = time.perf_counter
        for i in range(sizes.warm_rounds):
            # Requests interleave one by one (each side first in turn), so drift hits all sides alike.
            order = [(side, sides[side]) for side in names[i % 3:] + names[:i % 3]]
            samples: dict[str, list[float]] = {side: [] for side in sides}
            for _ in range(per_round):
                for side, call in order:
                    started = clock()
                    status = call()
                    samples[side].append(clock() - started)
                    statuses[side][status] = statuses[side].get(status, 0) + 1
            round_medians = {side: median(sample) for side, sample in samples.items()}
            for side, sample in samples.items():
                times[side].extend(sample)
            ratios.append(round_medians["facade"] / round_medians["baseline"])
            own_costs.append(round_medians["facade"] - round_medians["transport"])
            own_shares.append(own_costs[-1] / round_medians["baseline"])
        received = upstream.received - before
        parts = _facade_parts(request, authorization)
        in_process = _in_process_cost(broadcast, request)
        session.close()
        pool.close()
        reset_facade()
    parts.pop("_url")
    facade_us, baseline_us, transport_us = (median(times[side]) for side in ("facade", "baseline", "transport"))
    sent = per_round * sizes.warm_rounds
    result.rows.append(Row(f"warm: one authenticated broadcast, {sent:,} per side (per request, median)",
                           us(facade_us), us(baseline_us), median(ratios), 1.05))
    result.rows.append(Row("  the same direct call on the facade's transport (urllib3 pool; per request, median)",
                           us(facade_us), us(transport_us), facade_us / transport_us))
    result.rows.append(Row("  facade's own cost per request (facade − the same call on its transport; "
                           "share of the direct requests call)",
                           f"{us(median(own_costs))} ({median(own_shares):.0%})", "—"))
    result.rows.append(Row("  facade's own cost per request, upstream answered in-process (no network)",
                           f"{in_process * 1e6:.1f} µs", "—"))
    breakdown = ", ".join(f"{name} {seconds * 1e6:.1f} µs" for name, seconds in parts.items())
    result.notes.append(
        f"Warm: {sizes.warm_rounds} rounds of {per_round} requests per side, interleaved one by one (A B C, the first "
        "side rotating each round); every "
        "figure is the median over rounds of the per-round figure (medians of each side). Baseline: a direct "
        "`requests.Session` call with a precomputed token. The facade sends with urllib3's pool directly (a Session's "
        "cookies, hooks and request preparation cost about as much CPU as the exchange), so it can be faster than "
        "the baseline; its own cost is therefore measured against the same direct call on that transport, and "
        "again with the exchange answered in-process. The facade side calls the registered function's user "
        "function with a func.HttpRequest (as the worker does) and its token is validated once, then served from "
        "the validator's cache by SHA-256 until it expires. Steps the facade adds, timed alone "
        f"({MICRO_REPEATS:,} calls each, no network): {breakdown}."
    )
    expected = {202: sent}
    result.checks = {"sent_per_side": sent, "statuses": statuses, "upstream_received": received,
                     "upstream_expected": 3 * sent}
    if any(statuses[side] != expected for side in sides) or received != 3 * sent:
        result.errors.append(f"warm: statuses {statuses}, upstream got {received} of {3 * sent}")
    return result
