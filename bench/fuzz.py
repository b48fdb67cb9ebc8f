"""API fuzzing: schemathesis against the running local stack's own document, then hostile input.

    python -m bench.fuzz [--max-examples 200] [--seed N] [--max-time SECONDS] [--workers N]
                         [--property-examples 1500 | --skip-property]

Starts the whole local stack (``python -m devstack up``: host, SignalR emulator, Azurite, dev
identity provider) on free loopback ports, mints a token holding all four permissions, and runs
``schemathesis run <base>/api/openapi.json`` with every check but two:

- no 5xx (``not_a_server_error``), every status, content type, header and body as documented,
  schema-valid input accepted and schema-invalid input refused, auth not ignored (401 without it);
- not ``unsupported_method``: the Functions host answers 404, not 405, to a method a route does
  not serve (the local host imitates it); that is the platform's choice, not the document's;
- not ``ensure_resource_availability``: it reads a 202 from a send to a connection id as "created"
  and then expects ``:invoke`` on that id to find it, but sends are fire and forget (any id is
  accepted) while asking a client for a result needs a live connection (404 otherwise). Per-operation
  settings do not reach the stateful phase, so the check is off; this API creates no resources.

Then, against the same stack, the hand-made hostile requests of ``bench.hostile`` (bodies
nested thousands deep, lone surrogates, bytes that are not UTF-8 in a body, a path and a
query), each of which must be refused with a 4xx; and finally the property-based test
``tests/slow/resilience/test_hostile_input.py`` with many more generated examples than
``make test`` gives it (``HYPOTHESIS_PROFILE=fuzz``).

Exits non-zero when any phase fails. The CI test (tests/slow/resilience/test_fuzz_short.py) runs
the first two phases with a small budget (``make test`` runs the property test itself).
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

from bench.hostile import HostileResult, send_hostile
from devstack.child_stack import running_stack

ROOT = Path(__file__).resolve().parents[1]
EXCLUDED_CHECKS = ("unsupported_method", "ensure_resource_availability")
# Schema-invalid input may also be refused by the host before the function runs: a URL over its
# request-line limit (414) or a body over its size limit (413). Both are refusals, as documented.
# A batch whose envelope is valid runs its valid items and answers 207 with a 400 in the slot of
# each invalid item (docs/guides/batches.md): that is its refusal of schema-invalid items.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429",
                     "5xx"]

[[operations]]
include-path = "/api/v1/batch"
checks.negative_data_rejection.expected-statuses = ["207", "400", "401", "403", "413", "415", "5xx"]

# A schema cannot hold the filter grammar (a bad filter is a 400 saying where it broke) nor
# which continuation tokens the facade issued (any other is a 400): there a 400 is an answer.
[[operations]]
include-operation-id = ["executeCommands", "listConnectionsInGroup"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429", "5xx"]
"""


@dataclass
class FuzzResult:
    returncode: int
    output: str
    report: dict
    hostile: list[HostileResult] | None = None

    @property
    def hostile_passed(self) -> bool:
        return bool(self.hostile) and all(result.passed for result in self.hostile)

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
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "120",
           "SCHEMATHESIS_HOOKS": "bench.fuzz_hooks"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    reports = sorted(report_dir.glob("*.json"))
    report = json.loads(reports[-1].read_text()) if reports else {}
    return FuzzResult(done.returncode, done.stdout + done.stderr, report)


def fuzz(max_examples: int, seed: int, workers: int = 1, max_time: float | None = None) -> FuzzResult:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        with running_stack(Path(tmp) / "state") as stack:
            token = stack.token()
            result = run_schemathesis(stack.base_url, token, max_examples=max_examples, seed=seed,
                                      workers=workers, max_time=max_time, report_dir=Path(tmp) / "report")
            result.hostile = send_hostile(stack.base_url, token)
            return result


def run_property_test(examples: int) -> int:
    """The hypothesis test of every entry point, with ``examples`` per property (pytest's exit code)."""
    env = {**os.environ, "HYPOTHESIS_PROFILE": "fuzz", "HYPOTHESIS_FUZZ_EXAMPLES": str(examples)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/slow/resilience/test_hostile_input.py"]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200, help="test cases per operation (default 200)")
    parser.add_argument("--seed", type=int, default=20240607)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-time", type=float, default=None, help="overall budget in seconds")
    parser.add_argument("--property-examples", type=int, default=1500, help="hypothesis examples per property")
    parser.add_argument("--skip-property", action="store_true", help="skip the property-based phase")
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = fuzz(args.max_examples, args.seed, args.workers, args.max_time)
    print(result.output)
    for hostile in result.hostile or []:
        verdict = ("refused" if hostile.refused else "served, no 5xx") if hostile.passed else "FAILED"
        print(f"  hostile: {hostile.status} {verdict}  {hostile.name}")
    cases, operations = result.report.get("test_cases", {}), result.report.get("operations", {})
    passed = result.returncode == 0 and result.hostile_passed
    print(f"bench.fuzz: {'PASS' if passed else 'FAIL'}: {cases.get('generated', 0)} requests "
          f"over {operations.get('tested', 0)} operations, {cases.get('unique_failures', 0)} unique failures; "
          f"schemathesis exit {result.returncode}; {len(result.hostile or [])} hostile requests, "
          f"{'all' if result.hostile_passed else 'NOT all'} handled; {time.monotonic() - started:.0f} s, "
          f"seed {args.seed}")
    if not passed:
        return result.returncode or 1
    if args.skip_property:
        return 0
    code = run_property_test(args.property_examples)
    print(f"bench.fuzz: property-based phase {'PASS' if code == 0 else 'FAIL'} "
          f"({args.property_examples} examples per property)")
    return code


if __name__ == "__main__":
    sys.exit(main())
