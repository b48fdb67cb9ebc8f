"""``python -m bench [--smoke] [--only NAME] [--output docs/operations/benchmarks.md] [--json FILE]``.

Runs each benchmark in a child process, prints the table and (full runs, or when --output is
given) writes the Markdown report. Exits 1 only when a benchmark broke (an error or a count
that does not add up), never because of a timing: this machine is noisy.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import machine, plot, report
from bench.child import BENCHMARKS
from bench.results import BenchResult

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "docs" / "operations" / "benchmarks.md"
SIZE_FLAGS = ("cold_runs", "warm_requests", "warm_rounds", "queue_messages", "fanout_clients", "fanout_broadcasts",
              "batch_items", "batch_rounds", "batch_cpu_items", "queue_batch_commands")
CHILD_TIMEOUT = {"smoke": 180, "full": 1800}


def _run_one(name: str, smoke: bool, overrides: list[str]) -> BenchResult:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, "-m", "bench.child", name, "--out", str(out)]
        command += ["--smoke"] if smoke else []
        for item in overrides:
            command += ["--set", item]
        try:
            subprocess.run(command, cwd=ROOT, timeout=CHILD_TIMEOUT["smoke" if smoke else "full"], check=False)
        except subprocess.TimeoutExpired:
            return BenchResult(name, errors=[f"{name} did not finish in time"])
        if not out.exists():
            return BenchResult(name, errors=[f"{name} crashed before reporting"])
        return BenchResult.from_json(json.loads(out.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; proves each benchmark works")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only this (repeatable)")
    parser.add_argument("--output", type=Path, help=f"Markdown report (default for full runs: {DEFAULT_OUTPUT})")
    parser.add_argument("--json", type=Path, help="also write every result as JSON here")
    for field in SIZE_FLAGS:
        parser.add_argument(f"--{field.replace('_', '-')}", type=int, metavar="N", help="override this size")
    args = parser.parse_args(argv)
    overrides = [f"{f}={getattr(args, f)}" for f in SIZE_FLAGS if getattr(args, f) is not None]
    names = args.only or list(BENCHMARKS)

    results = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(_run_one(name, args.smoke, overrides))
    print(report.text_table(results))
    for result in results:
        for error in result.errors:
            print(f"\n{result.name} FAILED:\n{error}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps([r.to_json() for r in results], indent=2))
    output = args.output or (None if args.smoke else DEFAULT_OUTPUT)
    if output:
        command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
        date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        output.parent.mkdir(parents=True, exist_ok=True)
        plots = []
        points = plot.speedup_points(results)
        if points:
            plot.write_speedup_plot(points, output.parent / plot.SPEEDUP_PNG)
            plots.append(("Speed-up of an HTTP batch against batch size", plot.SPEEDUP_PNG))
        output.write_text(report.markdown(results, machine.describe(), date=date, command=command.strip(),
                                          plots=plots))
        print(f"wrote {output}", file=sys.stderr)
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
