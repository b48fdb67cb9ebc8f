"""How big each benchmark runs: the issue's sizes, or a smoke size that only proves it works."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Sizes:
    cold_runs: int = 20  # fresh processes per side
    warm_requests: int = 5_000  # per side
    warm_rounds: int = 10  # ABAB rounds the requests are split into
    queue_messages: int = 10_000  # per side
    fanout_clients: int = 1_000
    fanout_broadcasts: int = 10  # per side, one per second, sides alternating

    def with_overrides(self, **changes: Any) -> Sizes:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


FULL = Sizes()
SMOKE = Sizes(cold_runs=3, warm_requests=200, warm_rounds=4, queue_messages=200, fanout_clients=20,
              fanout_broadcasts=3)
