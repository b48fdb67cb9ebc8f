"""The whole local stack (``python -m devstack up``) as a child process on free ports.

For tests and the fuzzing run: start it, use it, stop it by PID, with nothing left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from devstack.constants import free_port
from devstack.stack import port_is_bound

__all__ = ["RunningStack", "free_port", "port_is_bound", "running_stack", "start_stack", "stop_stack"]

ROOT = Path(__file__).resolve().parents[1]




@dataclass
class RunningStack:
    process: subprocess.Popen
    ports: dict[str, int]
    state_dir: Path
    output: list[str] = field(default_factory=list)
    managed_identity: bool = False  # the facade reaches SignalR with AuthType=azure.msi

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['host']}"

    @property
    def hub_url(self) -> str:
        return f"{self.base_url}/api/v1/hubs/chat"

    def token(self, *args: str) -> str:
        """A token from the stack's own CLI, as a user would get one."""
        result = subprocess.run(
            [sys.executable, "-m", "devstack", "token", "--state-dir", str(self.state_dir), *args],
            cwd=ROOT, capture_output=True, text=True, timeout=30, check=True,
        )
        return result.stdout.strip()

    def call(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        return requests.request(method, self.base_url + path, headers={"Authorization": f"Bearer {token}"},
                                timeout=15, **kwargs)

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.output):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"stack did not print {text!r}: {''.join(self.output)[-3000:]}")


def start_stack(tmp_path: Path, *extra_args: str, managed_identity: bool = False) -> RunningStack:
    """``extra_args`` go to ``devstack up`` (e.g. ``--no-backend``)."""
    ports = {name: free_port() for name in ("host", "emulator", "queue", "idp", "identity", "idp_tls")}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "up", "--host-port", str(ports["host"]),
         "--emulator-port", str(ports["emulator"]), "--queue-port", str(ports["queue"]),
         "--idp-port", str(ports["idp"]), "--identity-port", str(ports["identity"]),
         "--idp-tls-port", str(ports["idp_tls"]), "--state-dir", str(tmp_path),
         *(["--managed-identity"] if managed_identity else []), *extra_args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stack = RunningStack(process, ports, tmp_path, managed_identity=managed_identity)

    def pump() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            stack.output.append(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        stack.wait_for_output("local stack is up", timeout=120)
    except AssertionError:
        stop_stack(stack)
        raise
    return stack


@contextmanager
def running_stack(state_dir: Path, *, managed_identity: bool = False) -> Iterator[RunningStack]:
    stack = start_stack(state_dir, managed_identity=managed_identity)
    try:
        yield stack
    finally:
        stop_stack(stack)


def stop_stack(stack: RunningStack) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.wait(timeout=10)
        raise
