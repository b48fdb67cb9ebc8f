"""API fuzzing with a short budget: schemathesis against the whole local stack, authenticated.

``make fuzz`` runs the same with a larger budget. Run as a process, as ``make`` does
(tests/bench/ is a package named ``bench`` too, so importing the real one here is fragile).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.stack

MAX_EXAMPLES = 15  # per operation; the whole test stays well under 90 s
SEED = 7


def test_the_document_holds_for_every_generated_request_and_no_500s():
    done = subprocess.run(
        [sys.executable, "-m", "bench.fuzz", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED)],
        cwd=ROOT, capture_output=True, text=True, timeout=170, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-12000:]
    summary = re.search(r"bench\.fuzz: PASS: (\d+) requests over (\d+) operations, 0 unique failures", output)
    assert summary and int(summary.group(1)) > 500 and int(summary.group(2)) == 21, output[-3000:]
