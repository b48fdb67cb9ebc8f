"""HTTP batches: one ``POST /api/v1/batch`` of N sends against N sequential facade calls.

Both sides go through the registered functions (``batch`` and ``sendToUser``) with an
authenticated ``func.HttpRequest``, as the worker calls them, to a stand-in that answers
every request after 20 ms (a realistic round trip to the service). Rounds alternate the
order; the figure is the median of the per-round ratios (batch time / sequential time).

The speed-up curve (``checks["speedup"]``, plotted by ``bench.plot``) times one batch per
size against the sequential per-call median times that size.

The facade's own CPU per item: the same N sends to a stand-in that answers at once (in
its own process, so only the client side is counted), as one batch through the facade, and
as bare calls on the facade's transport (an urllib3 pool) from as many threads as the batch
parallelism, each sending the next unsent item as the facade's runners do (same concurrency,
same hand-off), all in this process's CPU time (``time.process_time``), per
item; bare ``requests`` calls from as many threads are reported beside them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Empty, SimpleQueue

from bench.results import BenchResult, Row, median, ms, us
from bench.sizes import Sizes
from bench.stand_in import CountingUpstream, answered_in_process, bare_sender, bare_urllib3_sender
from devstack.constants import DEV_ACCESS_KEY as ACCESS_KEY

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = {"target": "newMessage", "arguments": ["batch", 1]}
ROUND_TRIP = 0.020
CURVE_SIZES = (1, 2, 5, 10, 20, 50, 100, 200)
OWN_CPU_GOAL = 30e-6  # seconds per item
CPU_ROUNDS = 9  # rounds of the three CPU sides, the order rotating: the differences are noisy
SPEEDUP_GOAL = 10.0


@functools.cache
def registered_functions() -> dict[str, object]:
    import function_app

    return {f.get_function_name(): f for f in function_app.app.get_functions()}  # indexing twice raises


class Sides:
    """Requests for the registered functions, built once so the timing holds only the calls."""

    def __init__(self, upstream: CountingUpstream | ExternalUpstream, idp: object) -> None:
        import azure.functions as func

        from functions.core.facade import reset_facade

        os.environ["AzureSignalRConnectionString"] = (
            f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={ACCESS_KEY};Version=1.0;")
        reset_facade()
        self.func = func
        functions = registered_functions()
        self.batch_function = functions["batch"].get_user_function()
        self.send_function = functions["sendToUser"].get_user_function()
        self.headers = {"Authorization": f"Bearer {idp.mint(roles=['SignalR.Send'])}",  # type: ignore[attr-defined]
                        "Content-Type": "application/json"}
        self.upstream = upstream

    def batch_request(self, count: int) -> object:
        items = [{"operation": "sendToUser", "hub": "chat", "user": f"u{i}", "payload": PAYLOAD} for i in range(count)]
        return self.func.HttpRequest("POST", "http://127.0.0.1:7071/api/v1/batch", headers=self.headers,
                                     params={}, route_params={}, body=json.dumps(items).encode())

    def send_requests(self, count: int) -> list[object]:
        body = json.dumps(PAYLOAD).encode()
        return [self.func.HttpRequest("POST", f"http://127.0.0.1:7071/api/v1/hubs/chat/users/u{i}",
                                      headers=self.headers, params={}, route_params={"hub": "chat", "user": f"u{i}"},
                                      body=body) for i in range(count)]

    def run_batch(self, request: object) -> int:
        response = self.batch_function(request)
        results = json.loads(response.get_body())["results"]
        return sum(1 for r in results if r["status"] == 202)

    def run_sequential(self, requests_: list[object]) -> int:
        return sum(1 for r in requests_ if self.send_function(r).status_code == 202)


def _timed(call: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    ok = call()
    return time.perf_counter() - started, ok


def _speed(sides: Sides, sizes: Sizes, result: BenchResult) -> None:
    count = sizes.batch_items
    batch_request, singles = sides.batch_request(count), sides.send_requests(count)
    sides.run_batch(sides.batch_request(32))  # connections and caches warm
    sides.run_sequential(singles[:5])
    before = sides.upstream.received
    ratios, batch_times, sequential_times, delivered = [], [], [], 0
    for i in range(sizes.batch_rounds):
        order = ("batch", "sequential") if i % 2 == 0 else ("sequential", "batch")
        timings = {}
        for side in order:
            seconds, ok = _timed((lambda: sides.run_batch(batch_request)) if side == "batch"
                                 else (lambda: sides.run_sequential(singles)))
            timings[side] = seconds
            delivered += ok
        batch_times.append(timings["batch"])
        sequential_times.append(timings["sequential"])
        ratios.append(timings["batch"] / timings["sequential"])
    received = sides.upstream.received - before
    expected = 2 * count * sizes.batch_rounds
    per_call = median(sequential_times) / count
    curve = []
    for size in CURVE_SIZES:
        if size > max(count, 10) * 2:
            break
        request = sides.batch_request(size)
        seconds = median([_timed(lambda r=request: sides.run_batch(r))[0] for _ in range(3)])
        curve.append({"items": size, "speedup": size * per_call / seconds,
                      "parallelism": sides_parallelism()})
    result.rows.append(Row(f"batch over HTTP: {count} sends, {ROUND_TRIP * 1000:.0f} ms upstream round trip: "
                           f"one batch vs {count} sequential facade calls (wall, median)",
                           ms(median(batch_times)), ms(median(sequential_times)), median(ratios),
                           1 / SPEEDUP_GOAL))
    result.rows.append(Row("  speed-up (sequential ÷ batch)", f"{1 / median(ratios):.1f}×", "—"))
    result.checks.update({"delivered": delivered, "expected": expected, "upstream_received": received,
                          "speedup": curve})
    if delivered != expected or received != expected:
        result.errors.append(f"batch_http: {delivered} answered 202 and upstream got {received} of {expected}")


def sides_parallelism() -> int:
    from functions.core.facade import get_facade

    return get_facade().settings.batch_parallelism


def _own_cpu(sides: Sides, sizes: Sizes, result: BenchResult) -> None:
    count = sizes.batch_cpu_items
    request = sides.batch_request(count)
    sides.run_batch(sides.batch_request(64))  # warm
    path = "/api/v1/hubs/chat/users/u"
    url = f"{sides.upstream.url}{path}"
    parallelism = sides_parallelism()
    session, headers, body = bare_sender(path, PAYLOAD, pool_size=32)
    pool, pool_headers, pool_body = bare_urllib3_sender(sides.upstream.port, path, PAYLOAD, pool_size=32)
    threads = ThreadPoolExecutor(parallelism)

    def drained(send: Callable[[int], int]) -> int:
        # As the facade's runners do: one task per thread, each sending the next unsent item until
        # none is left (no hand-off per item on either side).
        claims: SimpleQueue[int] = SimpleQueue()
        for i in range(count):
            claims.put(i)

        def runner(_: int) -> int:
            ok = 0
            while True:
                try:
                    i = claims.get_nowait()
                except Empty:
                    return ok
                ok += send(i) == 202

        return sum(threads.map(runner, range(parallelism)))

    def bare_requests() -> int:
        return drained(lambda i: session.post(f"{url}{i}", json=body, headers=headers, timeout=10).status_code)

    def bare_transport() -> int:
        return drained(lambda i: pool.urlopen("POST", f"{path}{i}", body=pool_body, headers=pool_headers).status)

    calls = {"facade": lambda: sides.run_batch(request), "transport": bare_transport, "requests": bare_requests}
    for call in calls.values():
        call()
    cpu: dict[str, list[float]] = {side: [] for side in calls}
    ok = dict.fromkeys(calls, 0)
    names = list(calls)
    for i in range(CPU_ROUNDS if sizes.batch_cpu_items >= 1000 else 3):
        for side in names[i % 3:] + names[:i % 3]:
            started = time.process_time()
            ok[side] += calls[side]()
            cpu[side].append((time.process_time() - started) / count)
    threads.shutdown()
    session.close()
    pool.close()
    facade, transport, bare = (median(cpu[side]) for side in names)
    # Paired by round (the same moment of a noisy machine), then the median of the differences.
    difference = median([f - t for f, t in zip(cpu["facade"], cpu["transport"], strict=True)])
    result.rows.append(Row(f"batch: CPU per item, {count} items, upstream answering at once (facade batch vs the "
                           f"same requests sent bare on the facade's transport, urllib3, from {parallelism} threads; "
                           "median)", us(facade), us(transport), facade / transport))
    steps = _per_item_steps(sides, count)
    steps_total = sum(steps.values())
    in_process = _in_process_cpu(sides, request, count)
    result.rows.append(Row(f"  facade's own CPU per item, upstream answered instantly (in-process: urllib3's pool "
                           f"hands back a canned 202), whole batch function, up to {parallelism} runners",
                           us(in_process), us(OWN_CPU_GOAL), in_process / OWN_CPU_GOAL, 1.0))
    result.rows.append(Row(f"  the facade's CPU per item minus the bare sender's on a real exchange (median of "
                           f"{len(cpu['facade'])} paired rounds; the bare sender always on {parallelism} threads, "
                           "the facade on fewer while its CPU is saturated: below 0 when that saves more "
                           "interpreter-lock contention than the facade costs)", us(difference), "—"))
    result.rows.append(Row(f"  the same requests sent bare with requests.Session from {parallelism} threads "
                           "(CPU per item, median)", us(facade), us(bare), facade / bare))
    result.notes.append("Batch item steps the facade adds, timed alone per item (one thread, no network): " + ", ".join(
        f"{name} {seconds * 1e6:.1f} µs" for name, seconds in steps.items()) +
        f"; {steps_total * 1e6:.1f} µs in all. The measured difference also holds the hand-off to the item "
        "runners and the threads' contention for the interpreter lock, which the facade's runner limit "
        "(functions/core/runner_limit.py) cuts when the upstream answers faster than one interpreter can send.")
    rounds = len(cpu["facade"])
    result.checks.update({"cpu_delivered": ok, "cpu_expected": rounds * count})
    if ok != dict.fromkeys(calls, rounds * count):
        result.errors.append(f"batch_http: CPU runs answered {ok} of {rounds * count} each")


def _in_process_cpu(sides: Sides, request: object, count: int, rounds: int = 5) -> float:
    """Process CPU seconds per item of the registered batch function, the upstream exchange
    answered in-process (the transport's urllib3 pool returns a canned 202): all the facade does
    for an item except the HTTP exchange itself, hand-off to its runners included."""
    with answered_in_process():
        sides.run_batch(request)  # warm
        samples = []
        for _ in range(rounds):
            started = time.process_time()
            if sides.run_batch(request) != count:
                raise RuntimeError("an item did not answer 202 in-process")
            samples.append((time.process_time() - started) / count)
        return median(samples)


def _per_item_steps(sides: Sides, count: int) -> dict[str, float]:
    """Seconds per item of each step the facade adds, timed alone in one thread (no network, no pool)."""
    from functions.batch.trigger import result_entry
    from functions.core.batch import read_batch
    from functions.core.batch_runner import ItemResult
    from functions.core.facade import Outcome, get_facade
    from functions.core.json_input import decode_json

    items = [{"operation": "sendToUser", "hub": "chat", "user": f"u{i}", "payload": PAYLOAD} for i in range(count)]
    text = json.dumps(items).encode()
    facade = get_facade()
    principal = facade.authenticate(sides.headers["Authorization"])
    batch = read_batch(items, queue=False)
    client = facade.client
    results = [ItemResult(item, Outcome(item.command, 202)) for item in batch.items]

    def timed(step: Callable[[], object]) -> float:
        started = time.perf_counter()
        step()
        return (time.perf_counter() - started) / count

    for item in batch.items:  # upstream tokens cached, as in a warm worker
        client.credential.bearer(client.url_for(item.command))
    return {
        "decode": timed(lambda: decode_json(text)),
        "validate": timed(lambda: read_batch(items, queue=False)),
        "authorize": timed(lambda: [facade.authorize(principal, i.command) for i in batch.items]),
        "URL + token (cached)": timed(lambda: [(client.credential.bearer(client.url_for(i.command)),
                                                client.query_for(i.command)) for i in batch.items]),
        "result": timed(lambda: json.dumps([result_entry(r) for r in results])),
    }


class ExternalUpstream:
    """The instant stand-in in its own process: its CPU stays out of this process's CPU time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def external_upstream() -> Iterator[ExternalUpstream]:
    import subprocess
    import sys

    from devstack.child_stack import free_port
    from devstack.stack import wait_for_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.stand_in", "--port", str(port)], cwd=ROOT,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield ExternalUpstream(port)
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(sizes: Sizes) -> BenchResult:
    import logging

    from devstack.idp import DevIdentityProvider
    from functions.core.facade import reset_facade

    logging.getLogger().setLevel(logging.ERROR)
    result = BenchResult("batch_http")
    with DevIdentityProvider() as idp:
        os.environ.update({"ENTRA_TENANT_ID": idp.tenant_id, "ENTRA_AUDIENCES": idp.audience,
                           "ENTRA_METADATA_URL": idp.metadata_url,
                           "SIGNALR_CALLER_LIMIT": "0"})  # one caller at full speed: measures the facade, not the limit
        for name in ("ENTRA_ALLOWED_TENANTS", "SIGNALR_ALLOWED_HUBS", "ENTRA_ACCEPT_V1_TOKENS"):
            os.environ.pop(name, None)
        with CountingUpstream(delay=ROUND_TRIP, backlog=64) as slow:
            _speed(Sides(slow, idp), sizes, result)
        with external_upstream() as fast:
            _own_cpu(Sides(fast, idp), sizes, result)
        reset_facade()
    result.notes.append(
        f"Batch over HTTP: the registered batch function vs the registered sendToUser function called once per item, "
        f"{sizes.batch_rounds} rounds alternating; the stand-in answers each request after {ROUND_TRIP * 1000:.0f} ms; "
        f"ratio = batch ÷ sequential wall time (goal ≤ {1 / SPEEDUP_GOAL:.2f}×, i.e. ≥ {SPEEDUP_GOAL:.0f}× faster), "
        f"default SIGNALR_BATCH_PARALLELISM ({sides_parallelism()}). The plot below is the speed-up for each batch "
        "size against that many sequential calls. Own CPU per item: process CPU time of one batch through the "
        "facade minus that of the same requests sent bare on the same transport (urllib3) from as many threads, "
        "divided by the items, rounds rotating the order "
        "(the stand-in answers from its own process, so only the sending side is counted)."
    )
    return result
