from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from azure.storage.queue import QueueServiceClient

from devstack.azurite import AzuriteQueue

from .helpers import SAMPLE_APP, STATIC_DIR

REPO = Path(__file__).resolve().parents[3]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_azurite_starts_on_a_free_port_answers_and_stops_completely():
    server = AzuriteQueue(port=0)
    server.start()
    pid, port = server.pid, server.port
    try:
        assert pid is not None
        assert port is not None
        assert f"QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1" in server.connection_string
        service = QueueServiceClient.from_connection_string(server.connection_string)
        service.create_queue("probe")
        assert [q.name for q in service.list_queues()] == ["probe"]
        service.close()
    finally:
        server.stop()
    assert not _alive(pid)
    assert not _port_open(port)


def test_the_cli_serves_the_app_and_exits_cleanly_on_sigterm(tmp_path: Path):
    settings = tmp_path / "local.settings.json"
    settings.write_text('{"IsEncrypted": false, "Values": {"CLI_SETTING": "from-cli-file"}}')
    env = {k: v for k, v in os.environ.items() if k not in ("CLI_SETTING", "WORK_QUEUE", "AWORK_QUEUE")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstack.host",
            "--app-dir",
            str(SAMPLE_APP),
            "--port",
            "0",
            "--settings",
            str(settings),
            "--static",
            str(STATIC_DIR),
            "--log-level",
            "WARNING",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            found = re.match(r"Host listening on (http://\S+)", line)
            url = found.group(1) if found else None
        assert url, "the host never announced its address"
        with urllib.request.urlopen(f"{url}/api/setting/CLI_SETTING", timeout=10) as response:
            assert response.read() == b"from-cli-file"
        with urllib.request.urlopen(f"{url}/", timeout=10) as response:
            assert b"demo page" in response.read()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not _port_open(int(url.rsplit(":", 1)[1]))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_a_missing_app_is_reported_with_exit_status_1(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "devstack.host", "--app-dir", str(tmp_path), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "function_app.py" in result.stderr


@pytest.mark.parametrize("bad", ['{"IsEncrypted": true, "Values": {}}', "{not json"])
def test_unusable_local_settings_stop_the_cli(tmp_path: Path, bad: str):
    settings = tmp_path / "local.settings.json"
    settings.write_text(bad)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.host",
            "--app-dir",
            str(SAMPLE_APP),
            "--port",
            "0",
            "--settings",
            str(settings),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "local settings" in result.stderr
