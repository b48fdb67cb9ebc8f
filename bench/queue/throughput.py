"""Queue throughput: commands through Azurite → local host → emulator, at host.json's batch settings.

Per side, the local host is started on the app, then N broadcast commands are put on a fresh
queue while it drains, keeping the queue at most ``MAX_DEPTH`` deep; the clock runs until every
command is accounted for and the queue is empty. (Preloading all N first measures Azurite, not
the facade: Azurite's in-memory queue slows down badly as it grows deep; Azure Storage does not.)
Every 100th command names an invalid hub, so the dead-letter path is
exercised. The count check: sent = delivered (202s the emulator answered for the hub) +
dead-lettered (``-invalid``) + poisoned (``-poison``). The baseline is a minimal hand-written
queue function (:mod:`bench.queue.baseline_app`) through the same host, queue and emulator.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path

from bench.queue.producer import QueueDepth, produce
from bench.results import BenchResult, Row
from bench.sizes import Sizes

ROOT = Path(__file__).resolve().parents[2]
HUB = "benchqueue"
INVALID_EVERY = 100
MAX_DEPTH = 500  # commands waiting in the queue at most while the producer runs


def _command(i: int) -> str:
    hub = "1invalid" if i % INVALID_EVERY == INVALID_EVERY - 1 else HUB
    return json.dumps({"operation": "broadcast", "hub": hub, "id": str(i),
                       "payload": {"target": "tick", "arguments": [i]}})


def _delivered(emulator: object, hub: str) -> int:
    path = f"/api/v1/hubs/{hub}"
    return emulator.call(  # type: ignore[attr-defined]
        lambda e: sum(1 for r in e.requests if r.method == "POST" and r.path == path and r.status == 202))


def _baseline_dir() -> Path:
    app_dir = Path(tempfile.mkdtemp(prefix="bench-queue-baseline-"))
    shutil.copy(ROOT / "host.json", app_dir / "host.json")
    shutil.copy(Path(__file__).with_name("baseline_app.py"), app_dir / "function_app.py")
    return app_dir


def prepare_commands_queue(side: str, azurite: object, emulator: object) -> tuple[str, str]:
    """A fresh commands queue (with its -invalid and -poison queues) for one side of a queue
    benchmark, and the settings that point the facade at it and the emulator; (connection, queue)."""
    from azure.storage.queue import QueueServiceClient

    from functions.core.facade import reset_facade

    conn = azurite.connection_string  # type: ignore[attr-defined]
    queue = f"bench-{side}-{uuid.uuid4().hex[:8]}"
    with QueueServiceClient.from_connection_string(conn) as service:
        for name in (queue, f"{queue}-invalid", f"{queue}-poison"):
            service.create_queue(name)
    os.environ.update({"SIGNALR_COMMANDS_STORAGE": conn, "SIGNALR_COMMANDS_QUEUE": queue,
                       "AzureSignalRConnectionString": emulator.connection_string})  # type: ignore[attr-defined]
    reset_facade()
    return conn, queue


def _one_side(side: str, app_dir: Path, azurite: object, emulator: object, count: int) -> dict[str, float | int]:

    from devstack.host import LocalHost

    conn, queue = prepare_commands_queue(side, azurite, emulator)
    emulator.call(lambda e: e.requests.clear())  # type: ignore[attr-defined]
    deadline_s = max(120.0, count / 20)
    host = LocalHost("function_app", app_dir, port=0, shutdown_timeout=10)
    host.start()
    started = time.perf_counter()
    commands = [_command(i) for i in range(count)]
    producer = threading.Thread(target=produce, args=(conn, queue, commands, started + deadline_s, MAX_DEPTH),
                                daemon=True)
    producer.start()
    delivered = dead = poisoned = remaining = 0
    depth = QueueDepth(conn)
    try:
        while time.perf_counter() - started < deadline_s:
            delivered = _delivered(emulator, HUB)
            dead = depth(f"{queue}-invalid")
            poisoned = depth(f"{queue}-poison")
            remaining = depth(queue)
            if delivered + dead + poisoned >= count and remaining == 0 and not producer.is_alive():
                break
            time.sleep(0.25)  # each poll is four calls to Azurite: keep it light
        elapsed = time.perf_counter() - started
    finally:
        producer.join(timeout=30)
        host.stop()
        depth.close()
    return {"sent": count, "delivered": delivered, "dead_lettered": dead, "poisoned": poisoned,
            "remaining": remaining, "seconds": elapsed, "per_second": count / elapsed}


def run(sizes: Sizes) -> BenchResult:
    from devstack.azurite import Azurite
    from devstack.emulator import EmulatorServer

    # The facade logs every dead-lettered command; the numbers, not the log, are the point here.
    logging.getLogger().setLevel(logging.ERROR)
    result = BenchResult("queue")
    count = sizes.queue_messages
    baseline_dir = _baseline_dir()
    sides: dict[str, dict[str, float | int]] = {}
    try:
        with EmulatorServer() as emulator:
            # Room for every request of a run: the default log keeps the last 10,000 only.
            emulator.call(lambda e: setattr(e, "requests", deque(maxlen=None)))
            for side, app_dir in (("facade", ROOT), ("baseline", baseline_dir)):
                # A fresh Azurite per side: it slows down with every message it has ever held,
                # so a shared one would hand the second side a slower queue.
                with Azurite() as azurite:
                    sides[side] = _one_side(side, app_dir, azurite, emulator, count)
    finally:
        shutil.rmtree(baseline_dir, ignore_errors=True)
    facade, baseline = sides["facade"], sides["baseline"]
    config = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]
    settings = f"batchSize {config['batchSize']}, newBatchThreshold {config['newBatchThreshold']}"
    result.rows.append(Row(f"queue: {count:,} commands drained ({settings}), messages/s",
                           f"{facade['per_second']:.0f}/s", f"{baseline['per_second']:.0f}/s",
                           float(baseline["per_second"]) / float(facade["per_second"])))
    for side, counts in sides.items():
        result.rows.append(Row(f"  count check, {side}: sent = delivered + dead-lettered + poisoned",
                               f"{counts['sent']:,} = {counts['delivered']:,} + {counts['dead_lettered']:,} + "
                               f"{counts['poisoned']:,}", f"in {counts['seconds']:.1f} s"))
    result.checks = {side: dict(counts) for side, counts in sides.items()}
    for side, counts in sides.items():
        if counts["delivered"] + counts["dead_lettered"] + counts["poisoned"] != counts["sent"] or counts["remaining"]:
            result.errors.append(f"queue ({side}): counts do not add up: {counts}")
    expected_dead = count // INVALID_EVERY
    if facade["dead_lettered"] != expected_dead or facade["poisoned"]:
        result.errors.append(f"queue: the facade dead-lettered {facade['dead_lettered']} (expected {expected_dead}) "
                             f"and poisoned {facade['poisoned']}")
    result.notes.append(
        f"Queue: {count:,} commands per side, sent while the local host (in this process, real function_app, "
        f"host.json queue settings) drains them into the SignalR emulator, the queue kept at most {MAX_DEPTH} deep, "
        f"each side on a fresh Azurite (Azurite slows down with every message it has held; Azure Storage does not); "
        f"every {INVALID_EVERY}th names an invalid hub and must be dead-lettered. "
        "Ratio = baseline rate / facade rate (time per message; lower is "
        "better); no goal is set, the figure is for reference. Facade first, then baseline (one pair: a side "
        "takes long enough that drift within it dominates)."
    )
    return result
