"""API fuzzing with a short budget: schemathesis against the whole local stack, authenticated.

``make fuzz`` runs the same with a larger budget, then the property-based test at length.
Run as a process, as ``make`` does.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.hostile import HOSTILE

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.stack

MAX_EXAMPLES = 15  # per operation; the whole test stays well under 90 s
SEED = 7


def test_the_document_holds_for_every_generated_request_and_no_500s():
    done = subprocess.run(
        [sys.executable, "-m", "bench.fuzz", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
         "--skip-property"],
        cwd=ROOT, capture_output=True, text=True, timeout=170, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-12000:]
    summary = re.search(r"bench\.fuzz: PASS: (\d+) requests over (\d+) operations, 0 unique failures; "
                        r"schemathesis exit 0; (\d+) hostile requests, all handled", output)
    tested = re.search(r"Tested: (\d+)", output)
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    assert summary, output[-3000:]
    assert int(summary.group(1)) > 500, output[-3000:]
    # Every operation of the document was selected and tested (schemathesis counts them its own way).
    assert selected
    assert tested
    assert selected.group(1) == selected.group(2) == tested.group(1) == summary.group(2)
    assert int(summary.group(3)) == len(HOSTILE)
