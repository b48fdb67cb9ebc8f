"""Fixtures for the emulator tests: a live emulator, a REST caller, client tokens, clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import requests

from clients.node_client import NodeClient, node_available
from clients.signalrcore_client import SignalRCoreClient
from devstack.emulator import DEV_ACCESS_KEY, EmulatorServer, Timings

FAST = Timings(keep_alive=0.5, client_timeout=30.0, handshake_timeout=5.0, negotiation_lifetime=10.0)


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(DEV_ACCESS_KEY, timings=FAST).start()
    yield server
    server.stop()


def sign(claims: dict[str, Any], key: str = DEV_ACCESS_KEY) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def server_token(path: str, *, lifetime: int = 300, key: str = DEV_ACCESS_KEY, host: str = "127.0.0.1") -> str:
    """A REST token as the SDK builds it: aud is scheme + host (no port) + the encoded path."""
    return sign({"aud": f"http://{host}{path}", "exp": int(time.time()) + lifetime}, key)


def client_token(user: str | None = "user", hub: str = "chat", *, lifetime: int = 300) -> str:
    claims: dict[str, Any] = {"aud": f"http://127.0.0.1/client/?hub={hub}", "exp": int(time.time()) + lifetime}
    if user is not None:
        claims["nameid"] = user
    return sign(claims)


class Rest:
    """Calls the emulator's REST API with correctly signed tokens (or the token you pass)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def __call__(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: Any = None,
        token: str | None | bool = True,
    ) -> requests.Response:
        headers = {}
        if token is True:
            token = server_token(path)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = self.base_url + path + (f"?{query}" if query else "")
        return self.session.request(method, url, json=body, headers=headers, timeout=10)

    def send(self, path: str, target: str = "hello", *arguments: Any, query: str = "") -> requests.Response:
        return self(
            "POST", path, query=query, body={"Target": target, "Arguments": list(arguments)}
        )


@pytest.fixture
def rest(emulator: EmulatorServer) -> Iterator[Rest]:
    caller = Rest(emulator.base_url)
    yield caller
    caller.session.close()


Connect = Callable[..., Any]


@pytest.fixture(params=[pytest.param("node", marks=pytest.mark.stack), "signalrcore"])
def client_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "node" and not node_available():
        pytest.skip("node and node_modules/@microsoft/signalr are needed")
    return request.param


@pytest.fixture
def connect(emulator: EmulatorServer, client_kind: str) -> Iterator[Connect]:
    """connect(user, name=..., hub=...) -> a started client of the parametrized kind."""
    started: list[Any] = []

    def factory(user: str | None = "user", *, name: str | None = None, hub: str = "chat") -> Any:
        url = f"{emulator.base_url}/client/?hub={hub}"
        token = client_token(user, hub)
        cls = NodeClient if client_kind == "node" else SignalRCoreClient
        client = cls(url, token, name=name or user)
        started.append(client)
        return client.start()

    yield factory
    for client in started:
        client.stop()


@pytest.fixture
def connect_core(emulator: EmulatorServer) -> Iterator[Connect]:
    """Like connect, always signalrcore (fast, in-process) for state-only tests."""
    started: list[SignalRCoreClient] = []

    def factory(user: str | None = "user", *, name: str | None = None, hub: str = "chat") -> SignalRCoreClient:
        client = SignalRCoreClient(f"{emulator.base_url}/client/?hub={hub}", client_token(user, hub),
                                   name=name or user)
        started.append(client)
        return client.start()

    yield factory
    for client in started:
        client.stop()


def settle(seconds: float = 0.3) -> None:
    """Give would-be deliveries time to arrive before asserting that none did."""
    time.sleep(seconds)
