"""Queue batches: commands/s through Azurite → local host → emulator, 100-command batch
messages against single-command messages, side by side.

Per side a fresh Azurite, the local host (this process, the real function_app, host.json's
queue settings) and the SignalR emulator; N broadcast commands go on the commands queue,
either one per message (kept at most ``MAX_DEPTH`` deep while the host drains it, as in
:mod:`bench.queue_throughput`) or ``BATCH`` per message. The clock runs until the emulator
has answered every command 202 and the queue is empty. The count check is per item:
sent = delivered + dead-lettered + poisoned (records on ``-invalid``/``-poison``).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.queue_throughput import QueueDepth, prepare_commands_queue
from bench.results import BenchResult, Row, median
from bench.sizes import Sizes
from devstack.constants import DEV_ACCESS_KEY as ACCESS_KEY

ROOT = Path(__file__).resolve().parents[1]
HUB = "benchbatch"
BATCH = 100
MAX_DEPTH = 500
MAX_LOGGED = 10_000  # the emulator keeps the last 10,000 requests: the count check needs them all
PRELOAD = 400  # single-command messages on the queue before the host starts
SENDER_THREADS = 8
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

    def delivered(self, hub: str) -> int:
        path = f"/api/v1/hubs/{hub}"
        log = self.session.get(f"{self.url}/_emulator/requests", timeout=30).json()
        return sum(1 for r in log if r["method"] == "POST" and r["path"].split("?")[0] == path and r["status"] == 202)

    def clear(self) -> None:
        self.session.delete(f"{self.url}/_emulator/requests", timeout=30)


def _command(i: int) -> dict:
    return {"operation": "broadcast", "hub": HUB, "id": str(i), "payload": {"target": "tick", "arguments": [i]}}


def _messages(side: str, count: int) -> list[str]:
    if side == "single":
        return [json.dumps(_command(i)) for i in range(count)]
    return [json.dumps([_command(i) for i in range(start, min(start + BATCH, count))])
            for start in range(0, count, BATCH)]


def _produce(connection_string: str, queue: str, messages: list[str], stop_at: float) -> None:
    from azure.storage.queue import QueueClient

    def send(part: list[str]) -> None:
        with QueueClient.from_connection_string(connection_string, queue) as client:
            for text in part:
                client.send_message(text)

    chunk = 200
    depth = QueueDepth(connection_string)
    with ThreadPoolExecutor(SENDER_THREADS) as pool:
        for start in range(0, len(messages), chunk):
            while depth(queue) > MAX_DEPTH - chunk and time.perf_counter() < stop_at:
                time.sleep(0.05)
            part = messages[start:start + chunk]
            list(pool.map(send, [part[t::SENDER_THREADS] for t in range(SENDER_THREADS)]))
    depth.close()


def _one_side(side: str, azurite: object, emulator: Emulator, count: int) -> dict[str, float | int]:

    from devstack.host import LocalHost

    conn, queue = prepare_commands_queue(side, azurite, emulator)
    emulator.clear()
    messages = _messages(side, count)
    deadline_s = max(120.0, count / 20)
    # The first messages wait on the queue before the host starts, so neither side's clock holds
    # the host's empty-queue polling backoff; the rest follow while it drains.
    first = PRELOAD if side == "single" else len(messages)
    _produce(conn, queue, messages[:first], time.perf_counter() + deadline_s)
    host = LocalHost("function_app", ROOT, port=0, shutdown_timeout=10)
    started = time.perf_counter()
    host.start()
    producer = threading.Thread(target=_produce, args=(conn, queue, messages[first:], started + deadline_s),
                                daemon=True)
    producer.start()
    delivered = dead = poisoned = remaining = 0
    depth = QueueDepth(conn)
    try:
        while time.perf_counter() - started < deadline_s:
            # The emulator's log is only read once the queue looks empty: reading it costs this process CPU.
            remaining = depth(queue)
            if remaining == 0 and not producer.is_alive():
                delivered = emulator.delivered(HUB)
                if delivered >= count:
                    break
            time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - started
        dead = depth(f"{queue}-invalid")
        poisoned = depth(f"{queue}-poison")
    finally:
        producer.join(timeout=30)
        host.stop()
        depth.close()
    return {"sent": count, "messages": len(messages), "delivered": delivered, "dead_lettered": dead,
            "poisoned": poisoned, "remaining": remaining, "seconds": elapsed, "per_second": count / elapsed}


def run(sizes: Sizes) -> BenchResult:
    from devstack.azurite import AzuriteQueue
    from devstack.child_stack import free_port
    from devstack.stack import wait_for_port

    logging.getLogger().setLevel(logging.ERROR)
    result = BenchResult("batch_queue")
    count = min(sizes.queue_batch_commands, MAX_LOGGED)
    rounds: list[dict[str, dict[str, float | int]]] = []
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "devstack.emulator", "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        emulator = Emulator(port)
        for i in range(sizes.queue_batch_rounds):
            sides: dict[str, dict[str, float | int]] = {}
            for side in (("batch", "single") if i % 2 == 0 else ("single", "batch")):
                with AzuriteQueue(port=0) as azurite:  # fresh per side: Azurite slows with what it has held
                    sides[side] = _one_side(side, azurite, emulator, count)
            rounds.append(sides)
    finally:
        process.terminate()
        process.wait(timeout=30)
    ratios = [float(r["single"]["per_second"]) / float(r["batch"]["per_second"]) for r in rounds]
    ratio = median(ratios)
    rates = {side: median([float(r[side]["per_second"]) for r in rounds]) for side in ("batch", "single")}
    result.rows.append(Row(f"queue: {count:,} commands as {BATCH}-command batch messages vs one per message, "
                           f"commands/s (median of {len(rounds)} rounds)", f"{rates['batch']:.0f}/s",
                           f"{rates['single']:.0f}/s", ratio, 1 / SPEEDUP_GOAL))
    result.rows.append(Row("  speed-up (batch rate ÷ single rate), median of the rounds' "
                           f"({', '.join(f'{1 / r:.1f}×' for r in ratios)})", f"{1 / ratio:.1f}×", "—"))
    for n, sides in enumerate(rounds, start=1):
        for side, counts in sides.items():
            result.rows.append(Row(f"  count check per item, round {n}, {side}: sent = delivered + dead-lettered + "
                                   "poisoned", f"{counts['sent']:,} = {counts['delivered']:,} + "
                                   f"{counts['dead_lettered']:,} + {counts['poisoned']:,}",
                                   f"{counts['messages']:,} messages in {counts['seconds']:.1f} s"))
    result.checks = {side: [dict(r[side]) for r in rounds] for side in ("batch", "single")}
    for sides in rounds:
        for side, counts in sides.items():
            if (counts["delivered"] + counts["dead_lettered"] + counts["poisoned"] != counts["sent"]
                    or counts["remaining"]):
                result.errors.append(f"batch_queue ({side}): counts do not add up: {counts}")
    result.notes.append(
        f"Queue batches: {count:,} broadcast commands per side through Azurite, the local host (this process, the "
        f"real function_app, host.json queue settings) and the SignalR emulator (its own process): "
        f"as {count // BATCH} messages of {BATCH} commands, and as {count:,} single-command messages "
        f"(kept at most {MAX_DEPTH} deep while draining). "
        f"Ratio = time per command, batch ÷ single (goal ≤ {1 / SPEEDUP_GOAL:.2f}×, i.e. ≥ {SPEEDUP_GOAL:.0f}× the "
        "commands per second), the median over rounds of each round's ratio, the order alternating (batch first "
        "in odd rounds). A fresh Azurite per side and round. The batch side is bound by this process's CPU (the "
        "host, its 16 item runners and urllib3's ~240 µs per request share one interpreter lock), the single "
        "side by Azurite's and the Storage SDK's work per message; both share two cores with the emulator."
    )
    return result
