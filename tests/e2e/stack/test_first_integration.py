"""The "Your first integration" guide's examples (examples/first_integration/), run against the whole local
stack exactly as the guide shows them, so they never go stale (issue 26, items 1 and 3, and the guide)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from clients.node_client import node_available
from devstack.child_stack import RunningStack, start_stack, stop_stack

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "first_integration"
GUIDE = ROOT / "docs" / "guides" / "first-integration.md"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    if not node_available():
        pytest.skip("node_modules not installed (run make setup)")
    # No sample backend: it would take the events off the queue before read_event.py does.
    running = start_stack(tmp_path_factory.mktemp("first-integration"), "--no-backend")
    yield running
    stop_stack(running)


@pytest.fixture(scope="module")
def env(stack: RunningStack) -> dict[str, str]:
    connection = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
                  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
                  f"QueueEndpoint=http://127.0.0.1:{stack.ports['queue']}/devstoreaccount1;")
    return {**os.environ, "FACADE_URL": stack.base_url, "IDP_URL": f"http://127.0.0.1:{stack.ports['idp']}",
            "IDP_TLS_URL": f"https://127.0.0.1:{stack.ports['idp_tls']}", "COMMANDS_STORAGE": connection,
            "REQUESTS_CA_BUNDLE": str(stack.state_dir / "idp" / "tls-cert.pem"), "WAIT_SECONDS": "30"}


def run(script: str, env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args], env=env, capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def start_watcher(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    watcher = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=ROOT)
    line = watcher.stdout.readline()  # type: ignore[union-attr]
    assert line.strip() == "connected", line + watcher.stdout.read()  # type: ignore[union-attr]
    return watcher


def finish(watcher: subprocess.Popen) -> str:
    output, _ = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, output
    return output


def test_the_script_sends_over_http_enqueues_reads_an_event_and_watches_deliveries(stack, env):
    watcher = start_watcher([sys.executable, str(EXAMPLES / "watch_deliveries.py"), "2"], env)
    try:
        assert "sent over HTTP: 202" in run("send_over_http.py", env)
        assert "enqueued: broadcast" in run("enqueue_command.py", env)
    finally:
        output = finish(watcher)
    assert '"hello over HTTP"' in output
    assert '"hello by queue"' in output
    assert re.search(r"event: (connections|messages) ", run("read_event.py", env))


def test_the_official_js_client_watches_deliveries(stack, env):
    token = run("dev_token.py", env).strip()
    watcher = start_watcher(["node", str(EXAMPLES / "watch_deliveries.mjs"), token, "1"], env)
    try:
        run("send_over_http.py", env)
    finally:
        assert '"hello over HTTP"' in finish(watcher)


def test_azure_identity_gets_a_token_the_facade_accepts(stack, env):
    token = run("azure_identity_token.py", env).strip()
    response = requests.post(f"{stack.base_url}/api/v1/hubs/chat", headers={"Authorization": f"Bearer {token}"},
                             json={"target": "t", "arguments": []}, timeout=10)
    assert response.status_code == 202


def test_every_snippet_of_the_guide_is_an_example_run_here():
    """The guide includes its code from the example files (pymdownx.snippets), and each is run above."""
    text = GUIDE.read_text()
    included = re.findall(r'--8<-- "([^"]+)"', text)
    assert included, "the guide includes no example"
    for path in included:
        assert (ROOT / path).is_file(), path
        assert Path(path).name in Path(__file__).read_text(), f"{path} is not run by this test"
    fenced = re.findall(r"```(\w+)\n(.*?)```", text, flags=re.S)
    for language, body in fenced:
        if language in ("python", "javascript"):
            assert body.strip().startswith("--8<--"), f"a {language} snippet not included from an example file"


def test_the_smoke_command_passes_against_the_local_stack(stack, env):
    """`make smoke` runs python -m devstack.smoke; here against the local stack with a connection string."""
    token = run("dev_token.py", env).strip()
    result = subprocess.run([sys.executable, "-m", "devstack.smoke", "--url", stack.base_url, "--token", token,
                             "--storage-connection", env["COMMANDS_STORAGE"]], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok  ") == 6
