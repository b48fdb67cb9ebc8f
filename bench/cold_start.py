"""Cold start: a fresh process answering one broadcast, facade vs a minimal hand-written function.

N fresh processes per side, alternating facade / baseline so drift on a noisy machine hits
both alike; the figure is the median of the per-pair wall-time ratios. The facade side also
authenticates: its token is a real RS256 one from a DevIdentityProvider in this process, and
fetching the provider's configuration and keys is part of its cold cost (the baseline has
no authentication at all).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.results import BenchResult, Row, median, ms
from bench.sizes import Sizes
from bench.upstream import CountingUpstream

ROOT = Path(__file__).resolve().parents[1]
ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"  # the emulator's public dev key
CHILD_TIMEOUT = 60
# Settings a developer's shell might carry; the children get only what the benchmark sets.
_FACADE_SETTINGS = ("AzureSignalRConnectionString", "ENTRA_TENANT_ID", "ENTRA_AUDIENCES", "ENTRA_ALLOWED_TENANTS",
                    "ENTRA_METADATA_URL", "ENTRA_ACCEPT_V1_TOKENS", "SIGNALR_ALLOWED_HUBS")


def _run_child(module: str, env: dict[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{module} exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    return elapsed, json.loads(done.stdout.strip().splitlines()[-1])


def run(sizes: Sizes) -> BenchResult:
    from devstack.idp import DevIdentityProvider

    result = BenchResult("cold_start")
    base_env = {k: v for k, v in os.environ.items() if k not in _FACADE_SETTINGS}
    with CountingUpstream() as upstream, DevIdentityProvider() as idp:
        # Long-lived token: every facade child validates it from scratch anyway.
        token = idp.mint(roles=["SignalR.Send"], lifetime=3600)
        facade_env = {
            **base_env,
            "AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1;Port={upstream.port};"
                                            f"AccessKey={ACCESS_KEY};Version=1.0;",
            "ENTRA_TENANT_ID": idp.tenant_id,
            "ENTRA_AUDIENCES": idp.audience,
            "ENTRA_METADATA_URL": idp.metadata_url,
            "BENCH_TOKEN": token,
        }
        baseline_env = {**base_env, "BENCH_UPSTREAM": upstream.url, "BENCH_ACCESS_KEY": ACCESS_KEY}
        sides = {"facade": ("bench.cold_facade", facade_env), "baseline": ("bench.cold_baseline", baseline_env)}
        # One discarded pair: bytecode caches and the page cache warm, as on a worker's disk.
        for module, env in sides.values():
            _run_child(module, env)
        samples: dict[str, list[tuple[float, dict]]] = {"facade": [], "baseline": []}
        for i in range(sizes.cold_runs):
            order = ("facade", "baseline") if i % 2 == 0 else ("baseline", "facade")
            for side in order:
                samples[side].append(_run_child(*sides[side]))
        fetches = idp.metadata_fetches, idp.jwks_fetches
    statuses = {side: [s[1]["status"] for s in runs] for side, runs in samples.items()}
    answered = upstream.received
    expected = 2 * (sizes.cold_runs + 1)
    ratios = [f[0] / b[0] for f, b in zip(samples["facade"], samples["baseline"], strict=True)]
    wall = {side: median([s[0] for s in runs]) for side, runs in samples.items()}
    imports = {side: median([s[1]["import_s"] for s in runs]) for side, runs in samples.items()}
    calls = {side: median([s[1]["call_s"] for s in runs]) for side, runs in samples.items()}
    result.rows.append(Row("cold start: process start → one authenticated broadcast answered (wall, median)",
                           ms(wall["facade"]), ms(wall["baseline"]), median(ratios), 1.2))
    result.rows.append(Row("  of which importing the app (median)", ms(imports["facade"]), ms(imports["baseline"]),
                           imports["facade"] / imports["baseline"]))
    result.rows.append(Row("  of which the first call, facade incl. JWKS fetch + RS256 check (median)",
                           ms(calls["facade"]), ms(calls["baseline"]), calls["facade"] / calls["baseline"]))
    result.checks = {"runs_per_side": sizes.cold_runs, "statuses": statuses, "upstream_received": answered,
                     "upstream_expected": expected, "idp_metadata_fetches": fetches[0], "idp_jwks_fetches": fetches[1]}
    identity_loaded = any(s[1].get("azure_identity_loaded") for s in samples["facade"])
    result.checks["azure_identity_loaded"] = identity_loaded
    bad = [s for side in statuses.values() for s in side if s != 202]
    if bad or answered != expected:
        result.errors.append(f"cold start: statuses {statuses}, upstream got {answered} of {expected}")
    if identity_loaded:
        result.errors.append("cold start: the facade imported azure.identity with an AccessKey connection string")
    result.notes.append(
        f"Cold start: {sizes.cold_runs} fresh `python -m` processes per side, alternating; ratio = median of "
        "per-pair wall-time ratios. Both sides are Functions apps indexed and invoked the way the worker does, so "
        "both pay for importing azure.functions (in Azure the worker has imported it before loading the app). "
        "The facade side also authenticates the caller: it fetches the identity provider's OpenID configuration "
        "and JWKS over loopback and verifies an RS256 token; the baseline has no authentication."
    )
    return result
