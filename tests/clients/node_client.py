"""Drive ``node_client.mjs`` (the official @microsoft/signalr client) from pytest.

    with NodeClient("http://127.0.0.1:7071/api", token=t) as client:
        connection_id = client.connection_id
        client.events.wait_messages(1)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from .events import EventLog

SCRIPT = Path(__file__).with_name("node_client.mjs")
REPO = SCRIPT.parents[2]


def node_available() -> bool:
    return shutil.which("node") is not None and (REPO / "node_modules" / "@microsoft" / "signalr").is_dir()


class NodeClientError(RuntimeError):
    """Raised when the client could not connect."""


class NodeClient:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        name: str | None = None,
        skip_negotiation: bool = False,
        lifetime: float = 120.0,
        answers: dict[str, Any] | None = None,
        hang: tuple[str, ...] = (),
        throw: dict[str, str] | None = None,
        protocol: str = "json",
    ) -> None:
        """``answers``/``hang``/``throw``: client-result handlers (target -> result, never, error)."""
        self.url = url
        self.name = name
        self.events = EventLog()
        self.connection_id: str | None = None
        command = ["node", str(SCRIPT), url, "--timeout", str(lifetime)]
        if token:
            command += ["--token", token]  # argv is visible to local processes only; tests use dev keys
        if name:
            command += ["--name", name]
        if skip_negotiation:
            command.append("--skip-negotiation")
        for target, result in (answers or {}).items():
            command += ["--answer", f"{target}={json.dumps(result)}"]
        for target in hang:
            command += ["--hang", target]
        for target, message in (throw or {}).items():
            command += ["--throw", f"{target}={message}"]
        if protocol != "json":
            command += ["--protocol", protocol]  # "messagepack": the MessagePack hub protocol
        self._command = command
        self._process: subprocess.Popen[str] | None = None
        self._threads: list[threading.Thread] = []
        self.stderr: list[str] = []

    def start(self, timeout: float = 20.0) -> NodeClient:
        """Spawn the client and wait until it is connected (or failed)."""
        self._process = subprocess.Popen(
            self._command,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        first = self.events.wait_for(lambda e: e["event"] in ("connected", "error", "closed"), timeout)
        if first["event"] != "connected":
            self.stop()
            raise NodeClientError(f"{first} stderr={''.join(self.stderr)[-2000:]}")
        self.connection_id = first["connectionId"]
        return self

    def _read_stdout(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            line = line.strip()
            if line:
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.stderr.append(f"(stdout) {line}\n")
        self.events.append({"event": "exited"})

    def _read_stderr(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self.stderr.append(line)

    def send(self, target: str, *arguments: Any) -> None:
        """Invoke a hub method from the client (in serverless mode the service closes it)."""
        self._command_line({"cmd": "send", "target": target, "arguments": list(arguments)})

    def invoke(self, target: str, *arguments: Any, id: str = "1") -> None:
        """Call ``invoke`` on the client; its outcome arrives as an ``invoked``/``invokeFailed`` event."""
        self._command_line({"cmd": "invoke", "id": id, "target": target, "arguments": list(arguments)})

    def _command_line(self, command: dict[str, Any]) -> None:
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()

    def stop(self, timeout: float = 10.0) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            try:
                self._command_line({"cmd": "stop"})
                process.stdin.close()  # type: ignore[union-attr]
            except (BrokenPipeError, OSError):
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        for thread in self._threads:  # they end at EOF, once the process is gone
            thread.join(timeout)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass
        self._process = None

    def __enter__(self) -> NodeClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
