"""What a benchmark hands back: rows of the table, the counts it checked, and notes."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One figure of the table. ``ratio`` is facade / baseline (lower is better) unless noted."""

    figure: str
    facade: str
    baseline: str
    ratio: float | None = None
    goal: float | None = None  # the ratio must be <= goal; None: reported, no goal

    @property
    def met(self) -> bool | None:
        if self.goal is None or self.ratio is None:
            return None
        return self.ratio <= self.goal


@dataclass
class BenchResult:
    name: str
    rows: list[Row] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)  # counts the smoke test asserts on
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BenchResult:
        rows = [Row(**row) for row in data.get("rows", [])]
        return cls(data["name"], rows, data.get("checks", {}), data.get("notes", []), data.get("errors", []))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; values need not be sorted."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"
