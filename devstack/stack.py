"""``python -m devstack up``: the whole system on one machine, supervised.

Children, each started so that the PID held is the server itself, and each stopped by
that PID on Ctrl-C / SIGTERM or when any of them dies:

    Azurite queue service      127.0.0.1:10001   commands, dead-letter, poison and events queues
    development identity       127.0.0.1:7072    OpenID configuration + JWKS (ENTRA_METADATA_URL)
    SignalR Service emulator   127.0.0.1:8888    REST API v1 + client negotiate/WebSocket; upstream
                                                 events POSTed to the function app's receiver
    function app (local host)  127.0.0.1:7071    /api/... routes, queue trigger, demo page at /
                                                 (``--core-tools``: ``func start`` instead, no demo
                                                 page; devstack/host/core_tools.py)
    sample chat backend        (no port)         reads the events queue, broadcasts through the facade
                                                 (``--no-backend`` leaves the events on the queue)
    identity endpoint          127.0.0.1:7073    with --managed-identity only: the platform's
                                                 IDENTITY_ENDPOINT, so the facade reaches the
                                                 emulator with AuthType=azure.msi as on Azure
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.azurite import AzuriteQueue
from devstack.constants import DEV_ACCESS_KEY
from devstack.stop_flag import StopFlag
from functions.core.settings import DEFAULT_COMMANDS_QUEUE, DEFAULT_EVENTS_QUEUE

if TYPE_CHECKING:
    from devstack.host.core_tools import AppSettingsFile

ROOT = Path(__file__).resolve().parents[1]

# The app's defaults, as Bicep names the queues too.
COMMANDS_QUEUE = DEFAULT_COMMANDS_QUEUE
EVENTS_QUEUE = DEFAULT_EVENTS_QUEUE
UPSTREAM_TEMPLATE = "http://127.0.0.1:{port}/api/upstream/{{hub}}/{{category}}/{{event}}"
# With --managed-identity the emulator authenticates its upstream calls as this identity (the
# SignalR resource's, on Azure), with tokens from the dev identity provider.
SIGNALR_IDENTITY_OID = "5160a15e-0000-4000-8000-000000000001"
SIGNALR_JS = ROOT / "node_modules/@microsoft/signalr/dist/browser/signalr.min.js"


def idp_state_dir(state_dir: Path) -> Path:
    """Where, in a stack's state directory, the identity provider keeps its keys (for `devstack token`)."""
    return state_dir / "idp"


@dataclass(frozen=True)
class Ports:
    host: int = 7071
    emulator: int = 8888
    queue: int = 10001
    idp: int = 7072
    identity: int = 7073
    idp_tls: int = 7074  # the provider over https, for MSAL and azure-identity (they insist on https)


def wait_for_port(port: int, process: subprocess.Popen | None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.pid} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f} s")


def port_is_bound(port: int) -> bool:
    """Whether a server holds the port. SO_REUSEADDR, as every server of the stack binds: the
    connections a stopped stack leaves in TIME_WAIT do not keep a new one from starting."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def check_free(ports: Ports, skip: tuple[str, ...] = ()) -> None:
    for name, port in vars(ports).items():
        if name not in skip and port_is_bound(port):
            flag = name.replace("_", "-")
            raise SystemExit(f"port {port} ({name}) is in use: stop what holds it or pass --{flag}-port")


class Stack:
    """Starts, watches and stops the local stack's processes."""

    def __init__(self, ports: Ports = Ports(), state_dir: Path = ROOT / ".devstack", quiet: bool = False,
                 managed_identity: bool = False, backend: bool = True,
                 extra_emulator_ports: tuple[int, ...] = (), verbose: bool = False,
                 app_dir: Path = ROOT, core_tools: str | None = None, idp_clients: Path | None = None) -> None:
        self.idp_clients = idp_clients  # client id -> app roles for the token endpoint (None: every permission)
        self.ports = ports
        self.app_dir = app_dir
        # The path of `func` when the app runs under Core Tools (opt-in), else the in-process host.
        self.core_tools = core_tools
        self.core_tools_marker = state_dir / "core-tools-settings.json"
        self.app_settings: AppSettingsFile | None = None  # placed under Core Tools only
        # Started in a process group of their own (func from npm is a launcher with a child).
        self.group_leaders: set[int] = set()
        self.verbose = verbose  # the Azure SDKs' HTTP traffic too (off: one line per event)
        self.managed_identity = managed_identity
        self.identity_header = secrets.token_urlsafe(24)  # the platform's IDENTITY_HEADER: per run
        self.backend = backend
        # More SignalR instances: each an emulator, configured as a named primary endpoint.
        self.extra_emulator_ports = extra_emulator_ports
        self.extra_emulators: list[subprocess.Popen] = []
        self.state_dir = state_dir
        self.quiet = quiet
        self.azurite = AzuriteQueue(ports.queue, state_dir / "azurite")
        self.children: list[subprocess.Popen] = []
        self.stopping = StopFlag()

    @property
    def idp_state(self) -> Path:
        return idp_state_dir(self.state_dir)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.host}"

    def _spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        out = subprocess.DEVNULL if self.quiet else None
        process = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, stdout=out, stderr=out,
                                   env={**os.environ, **env} if env else None)
        self.children.append(process)
        return process

    def _spawn_group(self, argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
        out = subprocess.DEVNULL if self.quiet else None
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=out, env=env, start_new_session=True)
        self.children.append(process)
        self.group_leaders.add(process.pid)
        return process

    def _signal(self, process: subprocess.Popen, signum: int) -> None:
        if process.pid in self.group_leaders:
            try:
                os.killpg(process.pid, signum)  # the group this stack started, by its leader's id
            except ProcessLookupError:
                pass
        else:
            process.send_signal(signum)

    def settings(self) -> dict[str, str]:
        """What the function app reads, as a local settings file (the names Bicep writes)."""
        from devstack.identity_endpoint import DEV_IDENTITY_CLIENT_ID, TOKEN_PATH
        from devstack.idp import DEV_AUDIENCE, DEV_TENANT_ID

        endpoint = f"Endpoint=http://127.0.0.1;Port={self.ports.emulator}"
        identity = {
            "AzureSignalRConnectionString":
                f"{endpoint};AuthType=azure.msi;ClientId={DEV_IDENTITY_CLIENT_ID};Version=1.0;",
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{self.ports.identity}{TOKEN_PATH}",
            "IDENTITY_HEADER": self.identity_header,
            # The emulator signs its upstream calls with its access key only (the service with
            # managed-identity upstream auth would send its identity's token instead): with no
            # AccessKey in the connection string, the receiver takes the key from here.
            "SIGNALR_UPSTREAM_KEYS": DEV_ACCESS_KEY,
        } if self.managed_identity else {
            "AzureSignalRConnectionString": f"{endpoint};AccessKey={DEV_ACCESS_KEY};Version=1.0;",
        }
        return {
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "AzureWebJobsStorage": self.azurite.connection_string,
            **identity,
            "ENTRA_TENANT_ID": DEV_TENANT_ID,
            "ENTRA_AUDIENCES": DEV_AUDIENCE,
            "ENTRA_METADATA_URL":
                f"http://127.0.0.1:{self.ports.idp}/{DEV_TENANT_ID}/v2.0/.well-known/openid-configuration",
            "SIGNALR_COMMANDS_QUEUE": COMMANDS_QUEUE,
            "SIGNALR_COMMANDS_STORAGE": self.azurite.connection_string,
            "SIGNALR_EVENTS_QUEUE": EVENTS_QUEUE,
            **({"SIGNALR_UPSTREAM_IDENTITIES": SIGNALR_IDENTITY_OID} if self.managed_identity else {}),
        } | self.endpoint_settings()

    def endpoint_settings(self) -> dict[str, str]:
        """The extra emulators as named primary endpoints (functions.signalr.endpoints), with the
        main connection string's credential."""
        from devstack.identity_endpoint import DEV_IDENTITY_CLIENT_ID

        credential = f"AuthType=azure.msi;ClientId={DEV_IDENTITY_CLIENT_ID}" if self.managed_identity \
            else f"AccessKey={DEV_ACCESS_KEY}"
        return {
            f"Azure__SignalR__Endpoints__emulator{n}__primary":
                f"Endpoint=http://127.0.0.1;Port={port};{credential};Version=1.0;"
            for n, port in enumerate(self.extra_emulator_ports, start=2)
        }

    @property
    def front_end_origin(self) -> str:
        """A second origin for the demo page: http://localhost:<port> is not http://127.0.0.1:<port>."""
        return f"http://localhost:{self.ports.host}"

    def host_settings(self) -> dict[str, object]:
        """CORS as infra/bicep writes it for Azure: explicit origins, credentials allowed (the
        official browser client negotiates with credentials)."""
        return {"CORS": self.front_end_origin, "CORSCredentials": True}

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.azurite.start()
        idp = self._spawn("devstack.idp", "--port", str(self.ports.idp), "--state-dir", str(self.idp_state),
                          "--tls-port", str(self.ports.idp_tls),
                          *(["--clients", str(self.idp_clients)] if self.idp_clients else []))
        from devstack.idp import DEV_TENANT_ID, V1_ISSUER

        # The emulator takes both kinds of token, as the service does unless local auth is off.
        def emulator_on(port: int) -> subprocess.Popen:
            return self._spawn(
                "devstack.emulator", "--port", str(port),
                "--entra-issuer", V1_ISSUER.format(tenant=DEV_TENANT_ID),
                "--entra-jwks-url", f"http://127.0.0.1:{self.ports.idp}/{DEV_TENANT_ID}/discovery/v2.0/keys",
                "--upstream", UPSTREAM_TEMPLATE.format(port=self.ports.host),
                *(["--upstream-token-url", f"http://127.0.0.1:{self.ports.idp}/dev/token",
                   "--upstream-identity", SIGNALR_IDENTITY_OID] if self.managed_identity else []),
            )

        emulator = emulator_on(self.ports.emulator)
        self.extra_emulators = [emulator_on(port) for port in self.extra_emulator_ports]
        wait_for_port(self.ports.idp, idp)
        wait_for_port(self.ports.idp_tls, idp)
        wait_for_port(self.ports.emulator, emulator)
        for port, process in zip(self.extra_emulator_ports, self.extra_emulators, strict=True):
            wait_for_port(port, process)
        if self.managed_identity:  # after the provider: it mints with the keys the provider saved
            identity = self._spawn("devstack.identity_endpoint", "--idp-state", str(self.idp_state),
                                   "--port", str(self.ports.identity), env={"IDENTITY_HEADER": self.identity_header})
            wait_for_port(self.ports.identity, identity)
        self._create_queues()
        settings_file = self.state_dir / "local.settings.json"
        settings_file.write_text(json.dumps(
            {"IsEncrypted": False, "Values": self.settings(), "Host": self.host_settings()}, indent=2))
        settings_file.chmod(0o600)
        demo_config = {"tokenUrl": f"http://127.0.0.1:{self.ports.idp}/dev/token", "facadeUrl": self.base_url}
        (self.state_dir / "demo-config.js").write_text(f"window.DEVSTACK = {json.dumps(demo_config)};\n")
        if self.core_tools is not None:
            # Imported here: devstack.host loads the whole in-process host, which `devstack token` never needs.
            from devstack.host.core_tools import AppSettingsFile, func_command, func_environment

            self.app_settings = AppSettingsFile(self.app_dir, self.core_tools_marker)
            # The same settings, where `func start` reads them; the first start may download the
            # extension bundle, hence the longer wait.
            self.app_settings.place(settings_file.read_text())
            host = self._spawn_group(func_command(self.core_tools, self.ports.host, self.verbose), self.app_dir,
                                     func_environment(dict(os.environ)))
            wait_for_port(self.ports.host, host, timeout=300)
        else:
            host = self._spawn(
                "devstack.host", "--app-dir", str(self.app_dir), "--port", str(self.ports.host),
                "--settings", str(settings_file), "--static", str(ROOT / "devstack/demo"),
                "--static-file", f"/signalr.min.js={SIGNALR_JS}",
                "--static-file", f"/config.js={self.state_dir / 'demo-config.js'}",
                *(["--verbose"] if self.verbose else []),
            )
            wait_for_port(self.ports.host, host, timeout=60)
        if self.backend:
            self._spawn("devstack.chat_backend", "--facade", self.base_url, "--storage",
                        self.azurite.connection_string, "--queue", EVENTS_QUEUE, "--idp-state", str(self.idp_state),
                        *(["--verbose"] if self.verbose else []))

    def _create_queues(self) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.queue import QueueServiceClient

        service = QueueServiceClient.from_connection_string(self.azurite.connection_string)
        for name in (COMMANDS_QUEUE, f"{COMMANDS_QUEUE}-invalid", f"{COMMANDS_QUEUE}-poison", EVENTS_QUEUE):
            try:
                service.create_queue(name)
            except ResourceExistsError:  # a restart on the same state directory: the queue is kept
                pass

    def watch(self) -> int:
        """Block until a signal or a child's death; the exit status to report."""
        while not self.stopping.wait(0.5):
            for process in [*self.children, self.azurite.process]:
                # An extra emulator may stop: that is an endpoint outage, and the facade fails over.
                if process is not None and process not in self.extra_emulators and process.poll() is not None:
                    print(f"devstack: process {process.pid} exited with {process.returncode}; stopping",
                          file=sys.stderr)
                    return 1
        return 0

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every child at once, give them ``grace`` seconds in all, then kill what is left."""
        for process in reversed(self.children):
            if process.poll() is None:
                self._signal(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"devstack: process {process.pid} ({' '.join(map(str, process.args[1:4]))}) did not stop "
                      f"within {grace:.0f} s; killing it", file=sys.stderr)
                self._signal(process, signal.SIGKILL)
                process.wait(timeout=5)
        self.children.clear()
        self.group_leaders.clear()
        if self.app_settings is not None:
            self.app_settings.remove()
        self.azurite.stop()

    @property
    def audience(self) -> str:
        from devstack.idp import DEV_AUDIENCE

        return DEV_AUDIENCE

    @property
    def tenant(self) -> str:
        from devstack.idp import DEV_TENANT_ID

        return DEV_TENANT_ID

    def credential_line(self) -> str:
        if self.managed_identity:
            return f"managed identity (AuthType=azure.msi) via http://127.0.0.1:{self.ports.identity}"
        return "access key"

    def demo_line(self) -> str:
        if self.core_tools is not None:
            return "not served under Core Tools (func start serves functions only; run without --core-tools)"
        return f"{self.base_url}/  (cross-origin, through CORS: {self.front_end_origin}/)"

    def banner(self) -> str:
        return f"""
signalr-facade local stack is up.

  Function app (facade)   {self.base_url}/api   (OpenAPI: {self.base_url}/api/openapi.json){self._host_kind()}
  Demo chat page          {self.demo_line()}
  SignalR emulator        http://127.0.0.1:{self.ports.emulator}{self._extra_banner()}
  Azurite queues          http://127.0.0.1:{self.ports.queue}/devstoreaccount1
                          (commands '{COMMANDS_QUEUE}', client events '{EVENTS_QUEUE}')
  Dev identity provider   http://127.0.0.1:{self.ports.idp}   (audience {self.audience})
                          token endpoint http://127.0.0.1:{self.ports.idp}/{self.tenant}/oauth2/v2.0/token
                          over https (MSAL, azure-identity): https://127.0.0.1:{self.ports.idp_tls}
                          with REQUESTS_CA_BUNDLE={self.idp_state / "tls-cert.pem"}
  SignalR credential      {self.credential_line()}

Try it:
  TOKEN=$(.venv/bin/python -m devstack token --role SignalR.Send)
  curl -i -X POST {self.base_url}/api/v1/hubs/chat \\
       -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
       -d '{{"target": "newMessage", "arguments": ["curl", "hello from curl"]}}'

Ctrl-C stops everything.
"""


    def _host_kind(self) -> str:
        return f"\n                          under Core Tools: {self.core_tools} start" if self.core_tools else ""

    def _extra_banner(self) -> str:
        return "".join(f"\n  SignalR emulator {n}      http://127.0.0.1:{port}  (endpoint emulator{n}; stop it "
                       "to watch the failover)" for n, port in enumerate(self.extra_emulator_ports, start=2))


def up(ports: Ports, state_dir: Path = ROOT / ".devstack", managed_identity: bool = False,
       backend: bool = True, endpoints: int = 1, verbose: bool = False, app_dir: Path = ROOT,
       core_tools: bool = False, idp_clients: Path | None = None) -> int:
    func: str | None = None
    if core_tools:  # before anything starts: a missing `func` or a foreign settings file fails at once
        from devstack.host.core_tools import AppSettingsFile, CoreToolsError, find_func

        try:
            func = find_func()
            AppSettingsFile(app_dir, state_dir / "core-tools-settings.json").check()
        except CoreToolsError as e:
            print(f"devstack: {e}", file=sys.stderr)
            return 2
    check_free(ports, skip=() if managed_identity else ("identity",))
    extra = tuple(ports.emulator + n for n in range(1, endpoints))
    for port in extra:
        if port_is_bound(port):
            raise SystemExit(f"port {port} (emulator for --endpoints) is in use")
    stack = Stack(ports, state_dir, managed_identity=managed_identity, backend=backend, extra_emulator_ports=extra,
                  verbose=verbose, app_dir=app_dir, core_tools=func, idp_clients=idp_clients)
    stack.stopping.on_signals()
    try:
        stack.start()
        print(stack.banner(), flush=True)
        return stack.watch()
    except RuntimeError as e:
        print(f"devstack: {e}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("devstack: stopped", flush=True)
