"""The batch speed-up plot for docs/operations/benchmarks.md: a small PNG drawn with matplotlib.

matplotlib is a development dependency (requirements-dev.txt), imported only here and only
when a full run writes the report, so no benchmark's timing pays for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.results import BenchResult

SPEEDUP_PNG = "batch-speedup.png"


def speedup_points(results: Sequence[BenchResult]) -> list[dict[str, Any]]:
    return next((r.checks.get("speedup", []) for r in results if r.checks.get("speedup")), [])


def write_speedup_plot(points: Sequence[dict[str, Any]], path: Path) -> None:
    """Speed-up of one HTTP batch over as many sequential calls, against the batch size (log x)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display here, and no GUI toolkit to load
    from matplotlib import pyplot as plt

    sizes = [p["items"] for p in points]
    speedups = [p["speedup"] for p in points]
    figure, axes = plt.subplots(figsize=(5, 3.2), dpi=100)
    axes.plot(sizes, speedups, marker="o", label="batch ÷ sequential")
    axes.plot(sizes, sizes, linestyle=":", color="grey", label="ideal (all at once)")
    if points:
        axes.axhline(points[0]["parallelism"], linestyle="--", color="tab:orange",
                     label=f"parallelism ({points[0]['parallelism']})")
    axes.set_xscale("log")
    axes.set_xlabel("items in the batch")
    axes.set_ylabel("speed-up (×)")
    axes.set_ylim(0, max([*speedups, points[0]["parallelism"] if points else 1]) * 1.25)
    axes.set_title("HTTP batch vs sequential calls, 20 ms round trip", fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})  # no version stamp: the file changes only with the data
    plt.close(figure)
