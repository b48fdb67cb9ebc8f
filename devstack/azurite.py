"""Azurite's queue and table services, each a child process we own by PID.

``node_modules/.bin/azurite-queue`` (and ``azurite-table``) is started directly (its
``#!/usr/bin/env node`` line execs node, so the PID we hold is the server), bound to 127.0.0.1
with ``--skipApiVersionCheck`` (the Python SDK may speak a newer API version than Azurite knows),
``--loose``, ``--silent`` and ``--disableTelemetry``. Data lives in memory unless ``location`` is
given. With ``port=0`` Azurite picks a free port, read back from its startup line.

``Azurite`` runs both, as the facade needs them: the commands queues and the idempotency table
(functions/core/idempotency) on one account, one connection string naming both endpoints.
"""

from __future__ import annotations

import collections
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_QUEUE = REPO_ROOT / "node_modules" / ".bin" / "azurite-queue"
AZURITE_TABLE = REPO_ROOT / "node_modules" / ".bin" / "azurite-table"
ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key: not a secret.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# The queue service names the port it bound (port 0 included); the table service only echoes the
# one it was given ("successfully started on 127.0.0.1:0"), so AzuriteTable picks a free port first.
_LISTENING = re.compile(r"Azurite (?:Queue service successfully listens on http://|Table service successfully "
                        r"started on )[^:]+:(\d+)")


class AzuriteError(RuntimeError):
    """Raised when Azurite cannot be started."""


class AzuriteQueue:
    """Azurite's queue service (``AzuriteTable``: its table service)."""

    service = "queue"
    endpoint_key = "QueueEndpoint"

    def __init__(
        self,
        port: int = 0,
        location: Path | None = None,
        *,
        binary: Path = AZURITE_QUEUE,
        startup_timeout: float = 30.0,
    ) -> None:
        self.requested_port = port
        self.location = location
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=50)
        self._reader = threading.Thread()

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise AzuriteError("Azurite is not started")
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"{self.endpoint_key}={self.endpoint};"
        )

    def __enter__(self) -> AzuriteQueue:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self.process is not None:
            raise AzuriteError("Azurite is already started")
        if not self.binary.exists():
            raise AzuriteError(f"{self.binary} not found; run `npm ci`")
        args = [
            str(self.binary),
            f"--{self.service}Host",
            "127.0.0.1",
            f"--{self.service}Port",
            str(self.requested_port),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            "--disableTelemetry",
        ]
        if self.location is None:
            args += ["--inMemoryPersistence", *(["--extentMemoryLimit", "256"] if self.service == "queue" else [])]
        else:
            self.location.mkdir(parents=True, exist_ok=True)
            args += ["--location", str(self.location)]
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=self.location or REPO_ROOT,
        )
        found = threading.Event()
        self._reader = threading.Thread(
            target=self._read_output, args=(found,), name="azurite-output", daemon=True
        )
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while not found.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = "\n".join(self._output)
                self.stop()
                raise AzuriteError(f"Azurite {self.service} service did not start:\n{output}")

    def _read_output(self, found: threading.Event) -> None:
        # Drains the pipe for the process's whole life so Azurite never blocks on a full pipe.
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._output.append(line.rstrip())
            match = _LISTENING.search(line)
            if match and not found.is_set():
                self.port = int(match.group(1))
                found.set()

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        self.port = None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        # The reader sees EOF once the process is gone; join it before closing the pipe under it.
        self._reader.join(timeout)
        if process.stdout is not None and not self._reader.is_alive():
            process.stdout.close()


class AzuriteTable(AzuriteQueue):
    """Azurite's table service."""

    service = "table"
    endpoint_key = "TableEndpoint"

    def __init__(self, port: int = 0, location: Path | None = None, *, binary: Path = AZURITE_TABLE,
                 startup_timeout: float = 30.0) -> None:
        super().__init__(port, location, binary=binary, startup_timeout=startup_timeout)

    def start(self) -> None:
        if self.requested_port == 0:  # it cannot report a port it picked: pick one (free at this moment)
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.requested_port = probe.getsockname()[1]
        super().start()


class Azurite:
    """The queue and table services of one development account, with one connection string for both."""

    def __init__(self, queue_port: int = 0, table_port: int = 0, location: Path | None = None) -> None:
        self.queue = AzuriteQueue(queue_port, location)
        self.table = AzuriteTable(table_port, location)

    @property
    def services(self) -> tuple[AzuriteQueue, AzuriteTable]:
        return self.queue, self.table

    @property
    def processes(self) -> list[subprocess.Popen[str]]:
        return [s.process for s in self.services if s.process is not None]

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"QueueEndpoint={self.queue.endpoint};TableEndpoint={self.table.endpoint};"
        )

    def __enter__(self) -> Azurite:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.queue.start()
        try:
            self.table.start()
        except AzuriteError:
            self.queue.stop()
            raise

    def stop(self) -> None:
        for service in self.services:
            service.stop()
