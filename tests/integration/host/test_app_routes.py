"""The facade's own routes through the local host (issue 26, item 7): the catch-all is tried after every
served route, an unknown path is a problem+json 404, a wrong method a 405 with Allow, and an empty 202
has no Content-Type."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devstack.azurite import AzuriteQueue
from devstack.child_stack import free_port
from devstack.constants import DEV_ACCESS_KEY as KEY
from devstack.idp import DevIdentityProvider
from support.recording_upstream import Answer, RecordingUpstream
from support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def facade(azurite: AzuriteQueue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, RecordingUpstream,
                                                                                              DevIdentityProvider]]:
    upstream = RecordingUpstream().start()
    idp = DevIdentityProvider().start()
    settings = tmp_path_factory.mktemp("routes") / "local.settings.json"
    settings.write_text(json.dumps({"Values": {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={KEY};Version=1.0;",
        "SIGNALR_COMMANDS_QUEUE": "routes-commands",
        "SIGNALR_COMMANDS_STORAGE": azurite.connection_string,
        "ENTRA_TENANT_ID": idp.tenant_id, "ENTRA_AUDIENCES": idp.audience, "ENTRA_METADATA_URL": idp.metadata_url,
    }}))
    port = free_port()
    host = subprocess.Popen([sys.executable, "-m", "devstack.host", "--app-dir", str(ROOT), "--port", str(port),
                             "--settings", str(settings), "--log-level", "WARNING"], cwd=ROOT)
    base = f"http://127.0.0.1:{port}/api"

    def answers() -> bool:
        try:
            return requests.get(f"{base}/openapi.json", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_until(answers, timeout=60, what="local host listening")
        yield base, upstream, idp
    finally:
        host.terminate()
        host.wait(timeout=30)
        idp.stop()
        upstream.stop()


def test_served_routes_still_win_over_the_catch_all(facade):
    base, upstream, idp = facade
    upstream.reset()
    upstream.answer(Answer(202))
    response = requests.post(f"{base}/v1/hubs/chat", json={"target": "t", "arguments": []}, timeout=10,
                             headers={"Authorization": f"Bearer {idp.mint(roles=['SignalR.Send'])}"})
    assert response.status_code == 202
    assert len(upstream.requests) == 1
    assert requests.get(f"{base}/health", timeout=10).status_code in (200, 503)


def test_an_empty_202_has_no_content_type(facade):
    base, upstream, idp = facade
    upstream.reset()
    upstream.answer(Answer(202))
    response = requests.post(f"{base}/v1/hubs/chat", json={"target": "t", "arguments": []}, timeout=10,
                             headers={"Authorization": f"Bearer {idp.mint(roles=['SignalR.Send'])}"})
    assert (response.status_code, response.content) == (202, b"")
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize("path", ["/hubs/chat", "/v2/hubs/chat", "/", "/v1/hubs/chat/nothing/here/at/all"])
def test_an_unknown_path_is_a_problem_404(facade, path):
    base, _, _ = facade
    response = requests.post(base + path, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:signalr-facade:problem:no-such-route"


def test_a_served_path_with_another_method_is_405_with_allow(facade):
    base, _, _ = facade
    response = requests.get(f"{base}/v1/hubs/chat", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json()["type"] == "urn:signalr-facade:problem:method-not-allowed"
