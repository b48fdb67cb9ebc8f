"""Idempotency-Key over HTTP, through the local host (the real function_app), Azurite's table service,
the SignalR stand-in and tokens from the dev identity provider: what reaches SignalR is counted."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest
import requests

from devstack.azurite import Azurite
from devstack.constants import DEV_ACCESS_KEY, free_port
from devstack.stack import wait_for_port
from functions.auth.principal import Principal
from functions.core.idempotency.config import StoreSettings
from functions.core.idempotency.keys import RecordKey, fingerprint, http_scope
from functions.core.idempotency.records import LEASE_SECONDS, Verdict
from functions.core.idempotency.store import IdempotencyStore
from support.recording_upstream import Answer, RecordingUpstream, Rule

ROOT = Path(__file__).resolve().parents[3]
PAYLOAD = {"target": "newMessage", "arguments": ["hello"]}
ROLES = ["SignalR.Send", "SignalR.Groups.Manage", "SignalR.Read"]


def start_host(tmp_path: Path, values: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    settings = tmp_path / f"settings-{port}.json"
    settings.write_text(json.dumps({"Values": values}))
    process = subprocess.Popen([sys.executable, "-m", "devstack.host", "--app-dir", str(ROOT), "--port", str(port),
                                "--settings", str(settings), "--log-level", "WARNING"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process, timeout=60)
    return process, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class Facade:
    """The app on the local host, and what it needs to be called and checked."""

    def __init__(self, base_url: str, upstream: RecordingUpstream, idp, store: StoreSettings | None) -> None:
        self.base_url, self.upstream, self.idp, self.store = base_url, upstream, idp, store

    def token(self, user: str = "alice") -> str:
        return self.idp.mint(roles=ROLES, user=user)

    def broadcast(self, hub: str, key: str | None, payload: dict = PAYLOAD, user: str = "alice") -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token(user)}", "Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return requests.post(f"{self.base_url}/api/v1/hubs/{hub}", data=json.dumps(payload).encode(),
                             headers=headers, timeout=30)

    def sent(self, hub: str) -> int:
        path = f"/api/v1/hubs/{hub}"
        return len([r for r in self.upstream.requests_to(path) if r.path.split("?")[0] == path])


@pytest.fixture(scope="module")
def system(azurite: Azurite, identity_provider, tmp_path_factory) -> Iterator[Callable[..., Facade]]:
    """``system()``: the facade with a working store; ``system(store_down=True)``: its store unreachable."""
    upstream = RecordingUpstream().start()
    tmp = tmp_path_factory.mktemp("idempotency-http")
    started: list[subprocess.Popen] = []
    table = f"http{uuid.uuid4().hex[:10]}"
    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    dead = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
            f"QueueEndpoint={azurite.queue.endpoint};TableEndpoint=http://127.0.0.1:{dead_port}/devstoreaccount1;")
    hosts: dict[bool, Facade] = {}

    def facade(store_down: bool = False) -> Facade:
        if store_down not in hosts:
            storage = dead if store_down else azurite.connection_string
            process, url = start_host(tmp, {
                "AzureSignalRConnectionString":
                    f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={DEV_ACCESS_KEY};Version=1.0;",
                "ENTRA_TENANT_ID": identity_provider.tenant_id,
                "ENTRA_AUDIENCES": identity_provider.audience,
                "ENTRA_METADATA_URL": identity_provider.metadata_url,
                "SIGNALR_COMMANDS_STORAGE": storage,
                "SIGNALR_COMMANDS_QUEUE": f"cmd-{uuid.uuid4().hex[:10]}",
                "SIGNALR_IDEMPOTENCY_TABLE": table,
            })
            started.append(process)
            hosts[store_down] = Facade(url, upstream, identity_provider, None if store_down else StoreSettings(
                connection_string=azurite.connection_string, table=table))
        return hosts[store_down]

    yield facade
    for process in started:
        stop(process)
    upstream.stop()


def hub() -> str:
    return f"h{uuid.uuid4().hex[:12]}"


def test_a_repeat_is_answered_from_the_record_and_nothing_more_is_sent(system):
    facade, name = system(), hub()
    first = facade.broadcast(name, "order-1")
    again = facade.broadcast(name, "order-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert facade.sent(name) == 1


def test_a_new_key_is_a_new_command(system):
    facade, name = system(), hub()
    facade.broadcast(name, "a")
    facade.broadcast(name, "b")
    facade.broadcast(name, None)
    facade.broadcast(name, None)  # no key: no record, every request is sent
    assert facade.sent(name) == 4


def test_the_same_key_with_another_body_is_422_and_nothing_is_sent(system):
    facade, name = system(), hub()
    facade.broadcast(name, "k")
    refused = facade.broadcast(name, "k", {"target": "other", "arguments": []})
    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:signalr-facade:problem:idempotency-key-reused"
    assert facade.sent(name) == 1


def test_two_callers_with_one_key_are_two_commands(system):
    facade, name = system(), hub()
    assert facade.broadcast(name, "shared", user="alice").status_code == 202
    second = facade.broadcast(name, "shared", user="bob")
    assert second.status_code == 202
    assert "Idempotent-Replayed" not in second.headers
    assert facade.sent(name) == 2


def test_concurrent_repeats_of_one_key_send_exactly_once(system):
    facade, name = system(), hub()
    facade.upstream.add_rule(Rule(f"/api/v1/hubs/{name}", Answer(202, delay=0.5)))  # repeats arrive mid-send
    barrier = threading.Barrier(12)

    def call(_: int) -> requests.Response:
        barrier.wait(timeout=30)
        return facade.broadcast(name, "concurrent")

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(call, range(12)))
    assert facade.sent(name) == 1
    assert {a.status_code for a in answers} <= {202, 409}
    assert all(a.headers["Retry-After"] for a in answers if a.status_code == 409)
    final = facade.broadcast(name, "concurrent")
    assert (final.status_code, final.headers.get("Idempotent-Replayed")) == (202, "true")
    assert facade.sent(name) == 1


def reservation_left_by_a_dead_worker(facade: Facade, name: str, key: str, reserved_at: float) -> None:
    """What a worker killed between reserve and send leaves: the reservation for exactly this request."""
    claims = jwt.decode(facade.token(), options={"verify_signature": False})
    principal = Principal.from_claims(claims, "2.0")
    body = json.dumps(PAYLOAD).encode()
    record = RecordKey(http_scope(principal.tenant_id, principal.object_id, principal.client_app_id), key,
                       fingerprint("broadcast", {"hub": name}, [], body))
    store = IdempotencyStore(facade.store, clock=lambda: reserved_at)
    assert store.reserve(record).verdict is Verdict.CLAIMED
    store.close()


def test_a_worker_killed_between_reserve_and_send_blocks_the_key_only_for_its_lease(system):
    facade, name = system(), hub()
    reservation_left_by_a_dead_worker(facade, name, f"crash-{name}", reserved_at=time.time())
    busy = facade.broadcast(name, f"crash-{name}")
    assert busy.status_code == 409
    assert busy.headers["Retry-After"]
    assert facade.sent(name) == 0


def test_a_retry_after_the_lease_of_a_killed_worker_sends_once(system):
    facade, name = system(), hub()
    reservation_left_by_a_dead_worker(facade, name, f"crash-{name}", reserved_at=time.time() - LEASE_SECONDS - 1)
    retry = facade.broadcast(name, f"crash-{name}")
    assert retry.status_code == 202
    assert "Idempotent-Replayed" not in retry.headers
    assert facade.broadcast(name, f"crash-{name}").headers["Idempotent-Replayed"] == "true"
    assert facade.sent(name) == 1


def test_a_transient_failure_releases_the_key_so_the_retry_runs(system):
    facade, name = system(), hub()
    facade.upstream.add_rule(Rule(f"/api/v1/hubs/{name}", Answer(500), times=1))
    failed = facade.broadcast(name, "flaky")
    assert failed.status_code == 502
    retried = facade.broadcast(name, "flaky")
    assert retried.status_code == 202
    assert "Idempotent-Replayed" not in retried.headers
    assert facade.sent(name) == 2


def test_a_final_failure_is_recorded_and_replayed(system):
    facade, name = system(), hub()
    facade.upstream.add_rule(Rule(f"/api/v1/hubs/{name}", Answer(400)))
    first = facade.broadcast(name, "rejected")
    again = facade.broadcast(name, "rejected")
    assert (first.status_code, again.status_code) == (502, 502)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert facade.sent(name) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_400_and_nothing_is_sent(system, key):
    facade, name = system(), hub()
    answer = facade.broadcast(name, key) if key.isascii() else requests.post(
        f"{facade.base_url}/api/v1/hubs/{name}", data=json.dumps(PAYLOAD).encode(),
        headers={"Authorization": f"Bearer {facade.token()}", "Content-Type": "application/json",
                 "Idempotency-Key": key.encode("utf-8")}, timeout=30)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert facade.sent(name) == 0


def test_an_unauthenticated_keyed_request_is_401_before_the_key_is_looked_at(system):
    facade, name = system(), hub()
    answer = requests.post(f"{facade.base_url}/api/v1/hubs/{name}", json=PAYLOAD,
                           headers={"Idempotency-Key": "x" * 300}, timeout=30)
    assert answer.status_code == 401


def test_a_keyed_batch_runs_once_and_its_207_is_replayed(system):
    facade, name = system(), hub()
    items = [{"operation": "broadcast", "hub": name, "payload": PAYLOAD} for _ in range(5)]
    headers = {"Authorization": f"Bearer {facade.token()}", "Idempotency-Key": "batch-1"}
    first = requests.post(f"{facade.base_url}/api/v1/batch", json=items, headers=headers, timeout=30)
    again = requests.post(f"{facade.base_url}/api/v1/batch", json=items, headers=headers, timeout=30)
    assert (first.status_code, again.status_code) == (207, 207)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert facade.sent(name) == 5
    other = requests.post(f"{facade.base_url}/api/v1/batch", json=items[:4], headers=headers, timeout=30)
    assert other.status_code == 422


def test_with_the_store_down_a_keyed_request_is_503_and_nothing_is_sent(system):
    facade, name = system(store_down=True), hub()
    refused = facade.broadcast(name, "k")
    assert refused.status_code == 503
    assert refused.json()["type"] == "urn:signalr-facade:problem:idempotency-unavailable"
    assert int(refused.headers["Retry-After"]) > 0
    assert facade.sent(name) == 0
    # A request without a key never touches the store: it is sent as always.
    assert facade.broadcast(name, None).status_code == 202
    assert facade.sent(name) == 1
