"""API fuzzing (issue 7, item 4): schemathesis against the running local stack's own document.

    python -m bench.fuzz [--max-examples 200] [--seed N] [--max-time SECONDS] [--workers N]

Starts the whole local stack (``python -m devstack up``: host, SignalR emulator, Azurite, dev
identity provider) on free loopback ports, mints a token holding all four permissions, and runs
``schemathesis run <base>/api/openapi.json`` with every check but one:

- no 5xx (``not_a_server_error``), every status, content type, header and body as documented,
  schema-valid input accepted and schema-invalid input refused, auth not ignored (401 without it);
- not ``unsupported_method``: the Functions host answers 404, not 405, to a method a route does
  not serve (the local host imitates it); that is the platform's choice, not the document's.

Exits with schemathesis' status (0: no failure). The CI test (tests/resilience/test_fuzz_short.py)
runs the same with a small budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.child_stack import running_stack

ROOT = Path(__file__).resolve().parents[1]
EXCLUDED_CHECKS = ("unsupported_method",)
# Schema-invalid input may also be refused by the host before the function runs: a URL over its
# request-line limit (414) or a body over its size limit (413). Both are refusals, as documented.
# A batch whose envelope is valid runs its valid items and answers 207 with a 400 in the slot of
# each invalid item (README, "Batches"): that is its refusal of schema-invalid items.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429",
                     "5xx"]

[[operations]]
include-path = "/api/v1/batch"
checks.negative_data_rejection.expected-statuses = ["207", "400", "401", "403", "413", "415", "5xx"]
"""


@dataclass
class FuzzResult:
    returncode: int
    output: str
    report: dict

    @property
    def summary(self) -> str:
        lines = self.output.strip().splitlines()
        start = next((i for i, line in enumerate(lines) if "SUMMARY" in line), max(0, len(lines) - 30))
        return "\n".join(lines[start:])


def run_schemathesis(
    base_url: str,
    token: str,
    *,
    max_examples: int,
    seed: int,
    workers: int = 1,  # more workers trip CPython 3.11 (ast.parse in threads) inside hypothesis
    max_time: float | None = None,
    report_dir: Path,
    timeout: float = 3600,
) -> FuzzResult:
    """One ``schemathesis run`` against ``base_url``; its JSON report is read back."""
    report_dir.mkdir(parents=True, exist_ok=True)
    config = report_dir / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{base_url}/api/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
        "--max-examples", str(max_examples), "--seed", str(seed), "--workers", str(workers),
        "--request-timeout", "30", "--no-color",
        "--report", "json", "--report-dir", str(report_dir),
    ]
    if max_time is not None:
        command += ["--max-time", str(int(max_time))]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "120"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    reports = sorted(report_dir.glob("*.json"))
    report = json.loads(reports[-1].read_text()) if reports else {}
    return FuzzResult(done.returncode, done.stdout + done.stderr, report)


def fuzz(max_examples: int, seed: int, workers: int = 1, max_time: float | None = None) -> FuzzResult:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        with running_stack(Path(tmp) / "state") as stack:
            return run_schemathesis(stack.base_url, stack.token(), max_examples=max_examples, seed=seed,
                                    workers=workers, max_time=max_time, report_dir=Path(tmp) / "report")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200, help="test cases per operation (default 200)")
    parser.add_argument("--seed", type=int, default=20240607)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-time", type=float, default=None, help="overall budget in seconds")
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = fuzz(args.max_examples, args.seed, args.workers, args.max_time)
    print(result.output)
    cases, operations = result.report.get("test_cases", {}), result.report.get("operations", {})
    print(f"bench.fuzz: {'PASS' if result.returncode == 0 else 'FAIL'}: {cases.get('generated', 0)} requests "
          f"over {operations.get('tested', 0)} operations, {cases.get('unique_failures', 0)} unique failures; "
          f"schemathesis exit {result.returncode}, {time.monotonic() - started:.0f} s, seed {args.seed}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
