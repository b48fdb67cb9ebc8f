"""Fan-out: one broadcast per second to many WebSocket clients on the emulator; delivery latency.

The emulator runs as its own process (so the clients here do not share its interpreter);
every client negotiates, opens the WebSocket and completes the JSON hub protocol handshake.
Broadcasts alternate one per second between two paths, each carrying its send time:
- baseline: straight to the emulator's REST API (``requests``, precomputed upstream token):
  the local stack's own latency, so it can never hide a facade regression;
- facade: through the registered ``broadcast`` function with a real RS256 caller token.
Latency is measured per client per message; p50/p99 over all of them.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.fanout.clients import Client, client_token
from bench.results import BenchResult, Row, ms, percentile
from bench.sizes import Sizes
from devstack.constants import DEV_ACCESS_KEY as ACCESS_KEY
from devstack.constants import free_port as _free_port

ROOT = Path(__file__).resolve().parents[2]

HUB = "fanout"
CONNECT_CONCURRENCY = 50
PING_EVERY = 10.0  # the emulator drops clients silent for 30 s
SETTLE_TIMEOUT = 10.0


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))  # children inherit it




def _senders(base_url: str, idp: object) -> dict[str, object]:
    """One blocking ``send(seq)`` per side, each posting ``tick(seq, side, perf_counter())``."""
    import json

    import azure.functions as func
    import jwt
    import requests

    import function_app
    from functions.core.facade import reset_facade

    reset_facade()
    broadcast = {f.get_function_name(): f for f in function_app.app.get_functions()}["broadcast"].get_user_function()
    authorization = f"Bearer {idp.mint(roles=['SignalR.Send'])}"  # type: ignore[attr-defined]
    session = requests.Session()
    session.trust_env = False
    path = f"/api/v1/hubs/{HUB}"
    now = int(time.time())
    upstream_token = jwt.encode({"aud": f"http://127.0.0.1{path}", "exp": now + 3600}, ACCESS_KEY, algorithm="HS256")

    def via_facade(seq: int) -> int:
        body = json.dumps({"target": "tick", "arguments": [seq, "facade", time.perf_counter()]}).encode()
        request = func.HttpRequest("POST", f"http://127.0.0.1:7071/api{path}", params={}, body=body,
                                   headers={"Authorization": authorization, "Content-Type": "application/json"},
                                   route_params={"hub": HUB})
        return broadcast(request).status_code

    def direct(seq: int) -> int:
        body = {"Target": "tick", "Arguments": [seq, "baseline", time.perf_counter()]}
        return session.post(base_url + path, json=body, timeout=10,
                            headers={"Authorization": f"Bearer {upstream_token}"}).status_code

    return {"facade": via_facade, "baseline": direct}


async def _drive(sizes: Sizes, base_url: str, senders: dict) -> tuple[list[Client], dict[str, list[int]], float]:
    import aiohttp

    clients = [Client(i) for i in range(sizes.fanout_clients)]
    statuses: dict[str, list[int]] = {"facade": [], "baseline": []}
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def connect(client: Client) -> None:
            async with gate:
                await client.connect(session, base_url, HUB, client_token(ACCESS_KEY, HUB, f"user-{client.index}"))

        started = time.perf_counter()
        await asyncio.gather(*(connect(c) for c in clients))
        connect_seconds = time.perf_counter() - started
        last_ping = time.monotonic()
        try:
            for seq in range(2 * sizes.fanout_broadcasts):
                order = ("facade", "baseline") if (seq // 2) % 2 == 0 else ("baseline", "facade")  # ABBA
                side = order[seq % 2]
                tick = time.perf_counter()
                statuses[side].append(await asyncio.to_thread(senders[side], seq))
                if time.monotonic() - last_ping > PING_EVERY:
                    await asyncio.gather(*(c.ping() for c in clients))
                    last_ping = time.monotonic()
                await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))
            expected = 2 * sizes.fanout_broadcasts
            deadline = time.monotonic() + SETTLE_TIMEOUT
            while time.monotonic() < deadline:
                if all(sum(len(v) for v in c.latencies.values()) >= expected for c in clients):
                    break
                await asyncio.sleep(0.1)
        finally:
            await asyncio.gather(*(c.close() for c in clients))
    return clients, statuses, connect_seconds


def run(sizes: Sizes) -> BenchResult:
    from devstack.idp import DevIdentityProvider
    from devstack.stack import wait_for_port

    result = BenchResult("fanout")
    _raise_fd_limit(2 * sizes.fanout_clients + 256)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen([sys.executable, "-m", "devstack.emulator", "--port", str(port)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, emulator)
        with DevIdentityProvider() as idp:
            os.environ.update({
                "AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1;Port={port};AccessKey={ACCESS_KEY};"
                                                "Version=1.0;",
                "ENTRA_TENANT_ID": idp.tenant_id, "ENTRA_AUDIENCES": idp.audience,
                "ENTRA_METADATA_URL": idp.metadata_url,
                "SIGNALR_CALLER_LIMIT": "0",  # one caller at full speed: the bench measures the facade, not the limit
            })
            senders = _senders(base_url, idp)
            for send in senders.values():  # keys fetched, connections open: the figure is about steady delivery
                send(-1)
            clients, statuses, connect_seconds = asyncio.run(_drive(sizes, base_url, senders))
    finally:
        emulator.terminate()
        try:
            emulator.wait(10)
        except subprocess.TimeoutExpired:
            emulator.kill()
            emulator.wait(10)
        stderr = emulator.stderr.read().decode(errors="replace") if emulator.stderr else ""
        if emulator.stderr:
            emulator.stderr.close()
    latencies = {side: [x for c in clients for x in c.latencies.get(side, [])] for side in ("facade", "baseline")}
    # The warm-up broadcasts (seq -1) went out before the clients connected, so nobody counts them.
    expected = sizes.fanout_clients * sizes.fanout_broadcasts
    received = {side: len(values) for side, values in latencies.items()}
    client_errors = [e for c in clients for e in c.errors]
    n = sizes.fanout_clients
    if all(latencies.values()):
        p = {side: (percentile(v, 50), percentile(v, 99)) for side, v in latencies.items()}
        result.rows.append(Row(f"fan-out to {n:,} clients: delivery latency p50", ms(p["facade"][0]),
                               ms(p["baseline"][0]), p["facade"][0] / p["baseline"][0]))
        result.rows.append(Row(f"fan-out to {n:,} clients: delivery latency p99", ms(p["facade"][1]),
                               ms(p["baseline"][1]), p["facade"][1] / p["baseline"][1]))
    result.rows.append(Row(f"  deliveries received / expected ({sizes.fanout_broadcasts} broadcasts per side)",
                           f"{received['facade']:,} / {expected:,}", f"{received['baseline']:,} / {expected:,}"))
    result.checks = {"clients": n, "expected_per_side": expected, "received": received, "statuses": statuses,
                     "client_errors": client_errors[:10], "connect_seconds": connect_seconds}
    if any(r != expected for r in received.values()) or client_errors or \
            any(s != 202 for v in statuses.values() for s in v):
        result.errors.append(f"fan-out: received {received} of {expected} per side, statuses {statuses}, "
                             f"client errors {client_errors[:3]}, emulator stderr {stderr[-500:]!r}")
    result.notes.append(
        f"Fan-out: {n:,} clients (negotiate + WebSocket + JSON hub protocol handshake, connected in "
        f"{connect_seconds:.1f} s) in one asyncio loop against the emulator in its own process; "
        f"{2 * sizes.fanout_broadcasts} broadcasts one per second, alternating the facade path (registered "
        "function, RS256 caller token) and the direct REST path (the baseline, i.e. the local stack alone). "
        "Latency = arrival − send time (one clock, same process) per client per message; it includes this "
        "process reading all sockets one after another. No goal: the direct figure shows the stack is not the "
        "bottleneck, the ratio what the facade adds on top."
    )
    return result
