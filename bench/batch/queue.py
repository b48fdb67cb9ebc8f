"""Queue batches: commands/s through Azurite → local host → emulator, 100-command batch
messages against single-command messages, side by side.

Per side a fresh Azurite, the local host (this process, the real function_app, host.json's
queue settings) and the SignalR emulator (its own process); N broadcast commands go on the
commands queue, either ``BATCH`` per message, all queued before the clock starts, or one per
message: ``PRELOAD`` queued before the clock starts, the rest sent by a producer in its own
process (:mod:`bench.queue.producer`) while the host drains the queue, kept at most
``MAX_DEPTH`` deep (Azurite slows down as its queue grows deep). The clock starts as the
host starts and stops when the last command reached the emulator (its request log's
timestamps), so the watcher's polling interval is in neither side's time. The count check is
per item: sent = delivered + dead-lettered + poisoned (records on ``-invalid``/``-poison``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.queue.producer import QueueDepth, produce
from bench.queue.throughput import prepare_commands_queue
from bench.results import BenchResult, Row, median
from bench.sizes import Sizes
from devstack.constants import DEV_ACCESS_KEY as ACCESS_KEY

ROOT = Path(__file__).resolve().parents[2]
HUB = "benchbatch"
BATCH = 100
MAX_DEPTH = 500
MAX_LOGGED = 10_000  # the emulator keeps the last 10,000 requests: the count check needs them all
PRELOAD = 400  # single-command messages on the queue before the host starts
SPEEDUP_GOAL = 10.0
# How often the watcher looks at the queue: it shares the host's interpreter lock, so each look
# slows the host a little; the end is seen at most this late (the same for both sides).
POLL_SECONDS = 0.1



class Emulator:
    """The SignalR emulator in its own process: the facade here does not share its interpreter."""

    def __init__(self, port: int) -> None:
        import requests

        self.url = f"http://127.0.0.1:{port}"
        self.connection_string = f"Endpoint=http://127.0.0.1;Port={port};AccessKey={ACCESS_KEY};Version=1.0;"
        self.session = requests.Session()

    def deliveries(self, hub: str) -> list[float]:
        """When each broadcast to ``hub`` that the emulator answered 202 arrived (``time.time()``)."""
        path = f"/api/v1/hubs/{hub}"
        log = self.session.get(f"{self.url}/_emulator/requests", timeout=30).json()
        return [r["at"] for r in log
                if r["method"] == "POST" and r["path"].split("?")[0] == path and r["status"] == 202]

    def clear(self) -> None:
        self.session.delete(f"{self.url}/_emulator/requests", timeout=30)

    def delivered(self, hub: str) -> tuple[int, float]:
        """How many broadcasts to ``hub`` were accepted, and when the last one arrived."""
        arrivals = self.deliveries(hub)
        return len(arrivals), max(arrivals, default=0.0)


class StandIn:
    """The lean stand-in (bench/stand_in.py) in its own process, answering each request after ``delay`` s:
    a realistic service round trip. It counts every request (this benchmark sends only its broadcasts)."""

    def __init__(self, port: int) -> None:
        import requests

        self.url = f"http://127.0.0.1:{port}"
        self.connection_string = f"Endpoint=http://127.0.0.1;Port={port};AccessKey={ACCESS_KEY};Version=1.0;"
        self.session = requests.Session()
        self._base = 0

    def _stats(self) -> dict:
        from bench.stand_in import STATS_PATH

        return self.session.get(self.url + STATS_PATH, timeout=30).json()

    def clear(self) -> None:
        self._base = self._stats()["received"]

    def delivered(self, hub: str) -> tuple[int, float]:
        stats = self._stats()
        return stats["received"] - self._base, stats["lastAt"]


def _command(i: int) -> dict:
    return {"operation": "broadcast", "hub": HUB, "id": str(i), "payload": {"target": "tick", "arguments": [i]}}


def _messages(side: str, count: int) -> list[str]:
    if side == "single":
        return [json.dumps(_command(i)) for i in range(count)]
    return [json.dumps([_command(i) for i in range(start, min(start + BATCH, count))])
            for start in range(0, count, BATCH)]


@contextlib.contextmanager
def _producer_process(conn: str, queue: str, messages: list[str], seconds: float
                      ) -> Iterator[subprocess.Popen | None]:
    """``bench.queue.producer`` sending ``messages`` from its own process (its Storage SDK work
    must not share the host's interpreter lock); None when there is nothing to send (the batch
    side: a producer starting up would only take CPU from the host while the clock runs)."""
    if not messages:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-producer-") as tmp:
        connection_file, messages_file = Path(tmp) / "connection", Path(tmp) / "messages.json"
        connection_file.write_text(conn)
        messages_file.write_text(json.dumps(messages))
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.queue.producer", "--connection-file", str(connection_file),
             "--queue", queue, "--messages", str(messages_file), "--seconds", str(seconds),
             "--max-depth", str(MAX_DEPTH)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=30)


def _one_side(side: str, azurite: object, emulator: Emulator | StandIn, count: int) -> dict[str, float | int]:

    from devstack.host import LocalHost

    conn, queue = prepare_commands_queue(side, azurite, emulator)
    emulator.clear()
    messages = _messages(side, count)
    deadline_s = max(120.0, count / 20)
    # The first messages wait on the queue before the host starts, so neither side's clock holds
    # the host's empty-queue polling backoff; the rest follow while it drains.
    first = PRELOAD if side == "single" else len(messages)
    produce(conn, queue, messages[:first], time.perf_counter() + deadline_s, MAX_DEPTH)
    host = LocalHost("function_app", ROOT, port=0, shutdown_timeout=10)
    delivered = dead = poisoned = remaining = 0
    last_at = 0.0
    depth = QueueDepth(conn)
    started_at, started = time.time(), time.perf_counter()
    host.start()
    try:
        with _producer_process(conn, queue, messages[first:], deadline_s) as producer:
            while time.perf_counter() - started < deadline_s:
                # The emulator's log is only read once the queue looks empty: reading it costs this process CPU.
                remaining = depth(queue)
                if remaining == 0 and (producer is None or producer.poll() is not None):
                    delivered, last_at = emulator.delivered(HUB)
                    if delivered >= count:
                        break
                time.sleep(POLL_SECONDS)
            producer_failed = producer is not None and producer.wait(timeout=30) != 0
        # The clock stops when the last command reached the emulator, not when this watcher saw it:
        # the watcher's polling interval would otherwise add up to POLL_SECONDS to each side.
        elapsed = last_at - started_at if delivered else time.perf_counter() - started
        dead = depth(f"{queue}-invalid")
        poisoned = depth(f"{queue}-poison")
    finally:
        host.stop()
        depth.close()
    return {"sent": count, "messages": len(messages), "delivered": delivered, "dead_lettered": dead,
            "poisoned": poisoned, "remaining": remaining, "seconds": elapsed, "per_second": count / elapsed,
            "producer_failed": int(producer_failed)}


UPSTREAM_DELAYS = (0.020, 0.0)  # the service's answer time: realistic (goal), then none (CPU-bound, no goal)


def _rounds(upstream: Emulator | StandIn, count: int, rounds: int) -> list[dict[str, dict[str, float | int]]]:
    from devstack.azurite import Azurite

    done: list[dict[str, dict[str, float | int]]] = []
    for i in range(rounds):
        sides: dict[str, dict[str, float | int]] = {}
        for side in (("batch", "single") if i % 2 == 0 else ("single", "batch")):
            with Azurite() as azurite:  # fresh per side: Azurite slows with what it has held
                sides[side] = _one_side(side, azurite, upstream, count)
        done.append(sides)
    return done


def _upstream_process(delay: float, port: int) -> subprocess.Popen:
    """20 ms: the stand-in, which can delay its answers; 0 ms: the emulator, whose log times each arrival."""
    args = ["bench.stand_in", "--port", str(port), "--delay", str(delay)] if delay else \
        ["devstack.emulator", "--port", str(port)]
    return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def run(sizes: Sizes) -> BenchResult:
    from devstack.child_stack import free_port
    from devstack.stack import wait_for_port

    logging.getLogger().setLevel(logging.ERROR)
    result = BenchResult("batch_queue")
    count = min(sizes.queue_batch_commands, MAX_LOGGED)
    by_delay: dict[float, list[dict[str, dict[str, float | int]]]] = {}
    for delay in UPSTREAM_DELAYS:
        port = free_port()
        process = _upstream_process(delay, port)
        try:
            wait_for_port(port, process)
            upstream = StandIn(port) if delay else Emulator(port)
            by_delay[delay] = _rounds(upstream, count, sizes.queue_batch_rounds)
        finally:
            process.terminate()
            process.wait(timeout=30)
    for delay, rounds in by_delay.items():
        _report(result, rounds, count, delay)
    result.checks = {f"{delay * 1000:.0f}ms": {side: [dict(r[side]) for r in rounds] for side in ("batch", "single")}
                     for delay, rounds in by_delay.items()}
    result.notes.append(
        f"Queue batches: {count:,} broadcast commands per side through Azurite (queues and the idempotency table: "
        f"every command carries an id, so each single-command message costs two Table round trips and each "
        f"batch message two Table transactions), the local host (this process, the "
        f"real function_app, host.json queue settings) and an upstream in its own process: the lean stand-in "
        f"answering after 20 ms (a realistic service round trip; the goal applies), then the SignalR emulator "
        f"answering at once (the CPU-bound case, reported without a goal: on two shared cores it measures the "
        f"machine, not the design). Each side as {count // BATCH} messages of {BATCH} commands, and as "
        f"{count:,} single-command messages ({PRELOAD} queued first, the rest sent from a producer process while "
        f"the host drains, at most {MAX_DEPTH} deep). The clock starts as the host starts and stops at the last "
        f"command's arrival upstream. Ratio = time per command, batch ÷ single (goal ≤ {1 / SPEEDUP_GOAL:.2f}×, "
        f"i.e. ≥ {SPEEDUP_GOAL:.0f}× the commands per second), the median over rounds of each round's ratio, the "
        "order alternating (batch first in odd rounds). A fresh Azurite per side and round."
    )
    return result


def _report(result: BenchResult, rounds: list[dict[str, dict[str, float | int]]], count: int, delay: float) -> None:
    answered = f"upstream answering after {delay * 1000:.0f} ms" if delay else "upstream answering at once (CPU-bound)"
    ratios = [float(r["single"]["per_second"]) / float(r["batch"]["per_second"]) for r in rounds]
    ratio = median(ratios)
    rates = {side: median([float(r[side]["per_second"]) for r in rounds]) for side in ("batch", "single")}
    result.rows.append(Row(f"queue, {answered}: {count:,} commands as {BATCH}-command batch messages vs one per "
                           f"message, commands/s (median of {len(rounds)} rounds)", f"{rates['batch']:.0f}/s",
                           f"{rates['single']:.0f}/s", ratio, 1 / SPEEDUP_GOAL if delay else None))
    result.rows.append(Row("  speed-up (batch rate ÷ single rate), median of the rounds' "
                           f"({', '.join(f'{1 / r:.1f}×' for r in ratios)})", f"{1 / ratio:.1f}×", "—"))
    for n, sides in enumerate(rounds, start=1):
        for side, counts in sides.items():
            result.rows.append(Row(f"  count check per item, round {n}, {side}: sent = delivered + dead-lettered + "
                                   "poisoned", f"{counts['sent']:,} = {counts['delivered']:,} + "
                                   f"{counts['dead_lettered']:,} + {counts['poisoned']:,}",
                                   f"{counts['messages']:,} messages in {counts['seconds']:.1f} s"))
            if (counts["delivered"] + counts["dead_lettered"] + counts["poisoned"] != counts["sent"]
                    or counts["remaining"]):
                result.errors.append(f"batch_queue ({side}, {delay * 1000:.0f} ms): counts do not add up: {counts}")
            if counts["producer_failed"]:
                result.errors.append(f"batch_queue ({side}, {delay * 1000:.0f} ms): the producer process failed")
