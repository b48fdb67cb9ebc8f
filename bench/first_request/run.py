"""The first authenticated request after a cold start, facade vs the naive hand-written function.

Both sides trust a DevIdentityProvider that holds every answer back ``IDP_DELAY`` (50 ms), as a
round trip to Entra over the internet costs. The naive function fetches the OpenID
configuration, then the keys, on its first request (two round trips in a row); the facade
starts both at worker load (functions.core.warmup), together, since Entra's key URL is known.
The request arrives either right after the app loaded or ``LATE_ARRIVAL_MS`` later, and only
its own latency is timed (the load is reported apart). Fresh processes, sides alternating;
the figure is the median of per-pair ratios.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.cold_start.run import _FACADE_SETTINGS, ACCESS_KEY, _cache_env, _run_child
from bench.results import BenchResult, Row, median, ms
from bench.sizes import Sizes
from bench.stand_in import CountingUpstream

IDP_DELAY = 0.050
LATE_ARRIVAL_MS = 300
ARRIVALS = (("right after the app loaded", 0), (f"{LATE_ARRIVAL_MS} ms after the app loaded", LATE_ARRIVAL_MS))
CHILD = "bench.first_request.child"


def run(sizes: Sizes) -> BenchResult:
    from devstack.idp import DevIdentityProvider

    result = BenchResult("first_request")
    base_env = {k: v for k, v in os.environ.items() if k not in _FACADE_SETTINGS}
    samples: dict[int, dict[str, list[dict]]] = {}
    with CountingUpstream() as upstream, DevIdentityProvider(response_delay=IDP_DELAY) as idp, \
            tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        common = {
            **base_env,
            "FUNCTIONS_WORKER_RUNTIME": "python",  # what the host gives a worker: the facade warms up
            "ENTRA_TENANT_ID": idp.tenant_id,
            "ENTRA_AUDIENCES": idp.audience,
            "ENTRA_METADATA_URL": idp.metadata_url,
            "BENCH_TOKEN": idp.mint(roles=["SignalR.Send"], lifetime=3600),
        }
        sides = {
            "facade": {**common, "BENCH_SIDE": "facade", "AzureSignalRConnectionString":
                       f"Endpoint=http://127.0.0.1;Port={upstream.port};AccessKey={ACCESS_KEY};Version=1.0;"},
            "naive": {**common, "BENCH_SIDE": "naive", "BENCH_UPSTREAM": upstream.url, "BENCH_ACCESS_KEY": ACCESS_KEY},
        }
        # Bytecode of the app and the libraries cached (one discarded run per side writes it).
        for env in sides.values():
            _run_child(CHILD, _cache_env({**env, "BENCH_ARRIVAL_MS": "0"}, Path(cache), write=True))
        for _label, arrival in ARRIVALS:
            runs: dict[str, list[dict]] = {"facade": [], "naive": []}
            for i in range(sizes.cold_runs):
                for side in ("facade", "naive") if i % 2 == 0 else ("naive", "facade"):
                    env = _cache_env({**sides[side], "BENCH_ARRIVAL_MS": str(arrival)}, Path(cache), write=False)
                    runs[side].append(_run_child(CHILD, env)[1])
            samples[arrival] = runs
        fetches = dict(idp.fetches)
    for label, arrival in ARRIVALS:
        runs = samples[arrival]
        latency = {side: [r["first_request_s"] for r in side_runs] for side, side_runs in runs.items()}
        ratios = [f / n for f, n in zip(latency["facade"], latency["naive"], strict=True)]
        load = {side: median([r["load_s"] for r in side_runs]) for side, side_runs in runs.items()}
        result.rows.append(Row(f"first authenticated request after a cold start, arriving {label} "
                               f"(identity provider +{IDP_DELAY * 1000:.0f} ms per request; latency, median)",
                               ms(median(latency["facade"])), ms(median(latency["naive"])), median(ratios),
                               1.0 if arrival == 0 else None))
        result.rows.append(Row("  loading the app before it (median)", ms(load["facade"]), ms(load["naive"]),
                               load["facade"] / load["naive"]))
        total = {side: [r["load_s"] + r["first_request_s"] for r in side_runs] for side, side_runs in runs.items()}
        result.rows.append(Row("  load + first request, the wait before it left out (median)",
                               ms(median(total["facade"])), ms(median(total["naive"])),
                               median([f / n for f, n in zip(total["facade"], total["naive"], strict=True)])))
    statuses = sorted({r["status"] for runs in samples.values() for side in runs.values() for r in side})
    expected = 2 * (1 + len(ARRIVALS) * sizes.cold_runs)
    result.checks = {"runs_per_side": sizes.cold_runs, "statuses": statuses, "upstream_received": upstream.received,
                     "upstream_expected": expected, "idp_fetches": fetches}
    if statuses != [202] or upstream.received != expected:
        result.errors.append(f"first request: statuses {statuses}, upstream got {upstream.received} of {expected}")
    # Each process (either side) reads the configuration and the keys exactly once.
    if fetches.get("metadata") != expected or fetches.get("jwks") != expected:
        result.errors.append(f"first request: identity provider fetches {fetches}, expected {expected} of each")
    result.notes.append(
        f"First request: {sizes.cold_runs} fresh processes per side and arrival time, alternating; ratio = median "
        f"of per-pair latency ratios; goal: the facade's first request is not slower than the naive one's. The "
        f"identity provider adds {IDP_DELAY * 1000:.0f} ms to every answer, as a round trip to Entra does. Naive: "
        "the function fetches the OpenID configuration, then the keys with PyJWKClient, on its first request. "
        "Facade: the worker's load starts the key fetch in the background, configuration and keys at once (Entra's "
        "key URL is known from the tenant), so a request arriving at once waits for at most one round trip, a "
        "later one for none. Both sides load with the app's and the libraries' bytecode cached "
        "(PYTHONPYCACHEPREFIX, written by one discarded run per side)."
    )
    return result
