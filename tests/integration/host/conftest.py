"""Fixtures for the local host's tests: a real Azurite, real LocalHost instances on free ports."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devstack.azurite import AzuriteQueue
from devstack.host import LocalHost

from .helpers import SAMPLE_APP, STATIC_DIR, Queues


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteQueue]:
    with AzuriteQueue(port=0) as server:
        yield server


@pytest.fixture(scope="module")
def http_host() -> Iterator[LocalHost]:
    """The sample app with its own host.json, a static dir and one mapped static file."""
    host = LocalHost(
        "function_app",
        SAMPLE_APP,
        port=0,
        static_dir=STATIC_DIR,
        static_files={"/lib/extra.js": STATIC_DIR / "site.css"},
    )
    host.start()
    yield host
    host.stop()


@pytest.fixture
def queues(azurite: AzuriteQueue, monkeypatch: pytest.MonkeyPatch) -> Queues:
    q = Queues(azurite.connection_string)
    monkeypatch.setenv("DevStorage", azurite.connection_string)
    monkeypatch.setenv("WORK_QUEUE", q.work)
    monkeypatch.setenv("AWORK_QUEUE", q.awork)
    return q


@pytest.fixture
def queue_host(queues: Queues, tmp_path: Path) -> Iterator[Callable[..., LocalHost]]:
    """Start the sample app from a copy whose host.json has the given ``extensions.queues``."""
    started: list[LocalHost] = []

    def start(**queue_settings: object) -> LocalHost:
        app_dir = tmp_path / f"app{len(started)}"
        app_dir.mkdir()
        shutil.copy(SAMPLE_APP / "function_app.py", app_dir / "function_app.py")
        settings = {"maxPollingInterval": "00:00:00.500", **queue_settings}
        host_json = {"version": "2.0", "extensions": {"queues": settings}}
        (app_dir / "host.json").write_text(json.dumps(host_json))
        host = LocalHost("function_app", app_dir, port=0, shutdown_timeout=10)
        host.start()
        started.append(host)
        return host

    yield start
    for host in started:
        host.stop()
