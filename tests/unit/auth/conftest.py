"""Fixtures for token validation: a real dev identity provider on loopback, validators
built on it, a controllable clock, and a counting server that must never be called."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devstack.idp import DEV_AUDIENCE, DEV_TENANT_ID, DevIdentityProvider
from functions.auth.keys import SigningKeyCache
from functions.auth.validator import TokenValidator
from functions.core.settings import Settings

from .helpers import CountingServer, FakeClock


@pytest.fixture
def idp(identity_provider: DevIdentityProvider) -> Iterator[DevIdentityProvider]:
    """The session's provider (tests/conftest.py), reset around each test: the keys it
    started with, available, nothing counted. Keys are generated once per session."""
    identity_provider.reset()
    yield identity_provider
    identity_provider.reset()


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.stop()


@pytest.fixture
def key_clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def make_validator(
    idp: DevIdentityProvider, key_clock: FakeClock
) -> Callable[..., TokenValidator]:
    """Builds a validator; keyword ``settings`` overrides Settings fields, the rest go to
    SigningKeyCache (its clock is ``key_clock`` unless given)."""

    def make(
        *, metadata_url: str | None = None, clock: Callable[[], float] = time.time, **options: Any
    ) -> TokenValidator:
        fields: dict[str, Any] = {
            "entra_tenant_id": DEV_TENANT_ID,
            "entra_audiences": (DEV_AUDIENCE,),
            "entra_metadata_url": metadata_url or idp.metadata_url,
        }
        fields.update(options.pop("settings", {}))
        options.setdefault("clock", key_clock)
        keys = SigningKeyCache(fields["entra_metadata_url"], timeout=5, **options)
        return TokenValidator(Settings(**fields), keys=keys, clock=clock)

    return make


@pytest.fixture
def validator(make_validator: Callable[..., TokenValidator]) -> TokenValidator:
    return make_validator()


