"""``python -m bench.child NAME [--smoke] [--set field=value ...] --out FILE``: run one benchmark.

Each benchmark gets a fresh interpreter: no settings, modules or threads left by another.
"""

from __future__ import annotations

import argparse
import importlib
import json
import traceback
from pathlib import Path

from bench.results import BenchResult
from bench.sizes import FULL, SMOKE

BENCHMARKS = {
    "cold_start": "bench.cold_start.run",
    "first_request": "bench.first_request.run",
    "warm": "bench.warm",
    "queue": "bench.queue.throughput",
    "fanout": "bench.fanout.run",
    "batch_http": "bench.batch.http",
    "batch_queue": "bench.batch.queue",
    "idempotency": "bench.idempotency.run",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override one size")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    sizes = (SMOKE if args.smoke else FULL).with_overrides(
        **{k: int(v) for k, v in (item.split("=", 1) for item in args.set)})
    try:
        result = importlib.import_module(BENCHMARKS[args.name]).run(sizes)
    except Exception:  # a broken benchmark is a result too: the table says so and the exit code fails
        result = BenchResult(args.name, errors=[traceback.format_exc(limit=8)])
    args.out.write_text(json.dumps(result.to_json(), indent=2))


if __name__ == "__main__":
    main()
