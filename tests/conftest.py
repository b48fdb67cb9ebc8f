"""Fixtures shared by every test area, named after what they return."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.constants import DEV_ACCESS_KEY
from support.lanes import lanes_of
from support.recording_upstream import RecordingUpstream


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test is in exactly one lane (its folder's conftest says which)."""
    stray = [item.nodeid for item in items if len(lanes_of(item)) != 1]
    if stray:
        raise pytest.UsageError(f"tests outside exactly one lane (tests/<lane>/...): {stray[:5]}")


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[RecordingUpstream]:
    server = RecordingUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def upstream(upstream_server: RecordingUpstream) -> Iterator[RecordingUpstream]:
    """The SignalR stand-in, with a clean log and script for each test."""
    upstream_server.reset()
    yield upstream_server
    upstream_server.reset()


@pytest.fixture
def connection_string(upstream: RecordingUpstream) -> str:
    return f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={DEV_ACCESS_KEY};Version=1.0;"


@pytest.fixture(scope="session")
def registered_functions() -> dict:
    """Every function the app registers, by name, as the worker indexes them (once: indexing twice raises)."""
    import function_app

    return {f.get_function_name(): f for f in function_app.app.get_functions()}


@pytest.fixture
def facade_env(monkeypatch: pytest.MonkeyPatch, connection_string: str) -> Iterator[pytest.MonkeyPatch]:
    """Settings pointing the facade at the SignalR stand-in; the facade is rebuilt around each test."""
    from functions.core.facade import reset_facade

    monkeypatch.setenv("AzureSignalRConnectionString", connection_string)
    monkeypatch.setenv("SIGNALR_COMMANDS_QUEUE", "signalr-commands")
    reset_facade()
    yield monkeypatch
    reset_facade()


@pytest.fixture(scope="session")
def identity_provider() -> Iterator:
    """A real local OpenID configuration + JWKS server that mints Entra-shaped tokens."""
    from devstack.idp import DevIdentityProvider

    idp = DevIdentityProvider().start()
    yield idp
    idp.stop()


@pytest.fixture
def secured_env(facade_env: pytest.MonkeyPatch, identity_provider) -> pytest.MonkeyPatch:
    """The facade configured to trust the local identity provider."""
    from functions.core.facade import reset_facade

    facade_env.setenv("ENTRA_TENANT_ID", identity_provider.tenant_id)
    facade_env.setenv("ENTRA_AUDIENCES", identity_provider.audience)
    facade_env.setenv("ENTRA_METADATA_URL", identity_provider.metadata_url)
    reset_facade()
    return facade_env
