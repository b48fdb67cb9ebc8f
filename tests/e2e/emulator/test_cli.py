"""``python -m devstack.emulator`` serves on the port it is given."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests

from devstack.constants import free_port as _free_port

REPO = Path(__file__).resolve().parents[3]




def test_the_module_runs_the_emulator_until_stopped() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.emulator", "--host", "127.0.0.1", "--port", str(port),
         "--access-key", "a-test-key-that-is-long-enough-for-hs256"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline, status = time.monotonic() + 15, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = requests.head(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert status == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "a-test-key" not in output
