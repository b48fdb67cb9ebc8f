"""A real Azurite (queue and table services) and stores on fresh tables, with a clock to move and a transport
that counts round trips."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator

import pytest
from azure.core.pipeline.transport import RequestsTransport

from clients.node_client import node_available
from devstack.azurite import Azurite
from functions.core.idempotency.config import StoreSettings
from functions.core.idempotency.store import IdempotencyStore, table_client

_tables = itertools.count()


class CountingTransport(RequestsTransport):
    """azure-core's own requests transport, counting what it sends (one send is one round trip)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def send(self, request, **kwargs):
        with self._lock:
            self.sent.append(request.method)
        return super().send(request, **kwargs)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    if not node_available():
        pytest.skip("node_modules not installed (run make setup)")
    with Azurite() as server:
        yield server


@pytest.fixture
def settings(azurite: Azurite) -> StoreSettings:
    return StoreSettings(connection_string=azurite.connection_string, table=f"idem{next(_tables)}", ttl=3600)


@pytest.fixture
def make_store(settings: StoreSettings) -> Iterator[Callable[..., IdempotencyStore]]:
    """A store on the test's table: ``clock`` to move time, ``transport`` to count round trips."""
    made: list[IdempotencyStore] = []

    def make(clock: Clock | None = None, transport: CountingTransport | None = None) -> IdempotencyStore:
        options = {"transport": transport} if transport is not None else {}
        store = IdempotencyStore(settings, clock=clock or Clock(),
                                 client_factory=lambda: table_client(settings, **options))
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()
