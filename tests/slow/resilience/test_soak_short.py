"""A short resilience run: steady load while SignalR misbehaves and the JWKS endpoint is down.

``make soak`` runs the same for longer and also judges memory. Run as a process, as ``make``
does, so the soak's own stack and threads end with it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.stack


def figure(output: str, label: str) -> int:
    found = re.search(rf"^\s*{re.escape(label)}:\s+(\d+)", output, re.MULTILINE)
    assert found, f"no '{label}' in:\n{output}"
    return int(found.group(1))


def test_faults_and_a_jwks_outage_cost_no_500s_and_no_queue_commands():
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--seconds", "20", "--rate", "12", "--queue-rate", "4", "--seed", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=150, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output  # every must-be-0 figure was 0
    assert figure(output, "500s") == 0, output
    assert figure(output, "queue lost") == 0, output
    assert figure(output, "queue duplicates") == 0, output  # every command carries an id (issue 25)
    assert figure(output, "401 to valid tokens") == 0, output  # cached keys carried the outage
    assert re.search(r"new-key tokens:\s+\{(401|503): \d+", output), output  # fail closed, and probed
    assert figure(output, "queue sent") > 50, output
    assert "queue dead-lettered: 0," not in output, output
    assert "soak: PASS" in output, output
