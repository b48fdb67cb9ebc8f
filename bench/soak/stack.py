"""What ``bench.soak.run`` runs against: the function app in a child process we can measure, wired
(with the settings names ``devstack.stack`` writes) to a fault-injecting SignalR stand-in,
an in-process development identity provider (so its JWKS can be taken down) and Azurite.

Everything binds 127.0.0.1 and everything started here is stopped by ``close()``, in reverse.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.faults import FaultMix, FaultyUpstream
from devstack.azurite import AzuriteQueue
from devstack.constants import DEV_ACCESS_KEY, free_port
from devstack.idp import ALL_PERMISSIONS, DevIdentityProvider
from devstack.stack import COMMANDS_QUEUE, ROOT, wait_for_port

QUEUES = (COMMANDS_QUEUE, f"{COMMANDS_QUEUE}-invalid", f"{COMMANDS_QUEUE}-poison")


def rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB, from /proc (None once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class SoakStack:
    def __init__(self, mix: FaultMix, seed: int) -> None:
        self._exit = ExitStack()
        self._tmp = Path(self._exit.enter_context(tempfile.TemporaryDirectory(prefix="soak-")))
        self.upstream = FaultyUpstream(mix, seed)
        # A second SignalR instance, healthy but for the soak's endpoint outage.
        self.second = FaultyUpstream(FaultMix(0, 0, 0, 0, 0), seed + 1)
        self.idp = DevIdentityProvider()
        self.azurite = AzuriteQueue(0)
        self.host: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.log_path = self._tmp / "host.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> dict[str, str]:
        return {
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "AzureWebJobsStorage": self.azurite.connection_string,
            "AzureSignalRConnectionString":
                f"Endpoint=http://127.0.0.1;Port={self.upstream.port};AccessKey={DEV_ACCESS_KEY};Version=1.0;",
            "ENTRA_TENANT_ID": self.idp.tenant_id,
            "ENTRA_AUDIENCES": self.idp.audience,
            "ENTRA_METADATA_URL": self.idp.metadata_url,
            "SIGNALR_CALLER_LIMIT": "0",  # one caller under steady load: the soak measures the facade, not the limit
            "SIGNALR_COMMANDS_QUEUE": COMMANDS_QUEUE,
            "SIGNALR_COMMANDS_STORAGE": self.azurite.connection_string,
            "Azure__SignalR__Endpoints__second__primary":
                f"Endpoint=http://127.0.0.1;Port={self.second.port};AccessKey={DEV_ACCESS_KEY};Version=1.0;",
        }

    def start(self) -> SoakStack:
        try:
            self._exit.enter_context(self.upstream)
            self._exit.enter_context(self.second)
            self._exit.enter_context(self.idp)
            self._exit.enter_context(self.azurite)
            self._create_queues()
            settings = self._tmp / "local.settings.json"
            settings.write_text(json.dumps({"IsEncrypted": False, "Values": self.settings()}))
            settings.chmod(0o600)
            log = self._exit.enter_context(self.log_path.open("wb"))
            self.host = subprocess.Popen(
                [sys.executable, "-m", "devstack.host", "--app-dir", str(ROOT), "--port", str(self.port),
                 "--settings", str(settings), "--log-level", "WARNING"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
            self._exit.callback(self._stop_host)
            wait_for_port(self.port, self.host, timeout=60)
        except BaseException:
            self.close()
            raise
        return self

    def _stop_host(self) -> None:
        host, self.host = self.host, None
        if host is None or host.poll() is not None:
            return
        host.terminate()  # SIGTERM: the host stops gracefully
        try:
            host.wait(timeout=45)
        except subprocess.TimeoutExpired:
            host.kill()
            host.wait(timeout=10)

    def _create_queues(self) -> None:
        for name in QUEUES:
            self.queue(name).create_queue()

    def queue(self, name: str):
        from azure.storage.queue import QueueClient

        return QueueClient.from_connection_string(self.azurite.connection_string, name)

    def token(self, **kwargs: object) -> str:
        return self.idp.mint(roles=list(ALL_PERMISSIONS), **kwargs)  # type: ignore[arg-type]

    def host_rss_kib(self) -> int | None:
        return rss_kib(self.host.pid) if self.host is not None else None

    def host_alive(self) -> bool:
        return self.host is not None and self.host.poll() is None

    def host_log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def close(self) -> None:
        self._exit.close()

    def __enter__(self) -> SoakStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
