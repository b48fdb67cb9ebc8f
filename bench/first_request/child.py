"""First-request child: load one side's app as the worker does, let the request arrive
``BENCH_ARRIVAL_MS`` after the load, and time that first authenticated broadcast alone.

``BENCH_SIDE`` is ``facade`` (``function_app``: its warm-up starts at load) or ``naive``
(``bench.first_request.naive``). Prints one JSON line: status, load time, first-request latency.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

from bench.cold_start.invoke import invoke  # noqa: E402

MODULES = {"facade": "function_app", "naive": "bench.first_request.naive"}

module = importlib.import_module(MODULES[os.environ["BENCH_SIDE"]])
LOADED = time.perf_counter()
time.sleep(int(os.environ["BENCH_ARRIVAL_MS"]) / 1000)
before = time.perf_counter()
status = invoke(module.app, "broadcast", f"Bearer {os.environ['BENCH_TOKEN']}")
after = time.perf_counter()
print(json.dumps({"status": status, "load_s": LOADED - STARTED, "first_request_s": after - before}))
