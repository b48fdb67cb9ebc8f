"""How big each benchmark runs: the full sizes (for steady medians), or a smoke size that only proves it works."""

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
    batch_items: int = 100  # items per HTTP batch (and sequential calls on the other side)
    batch_rounds: int = 5  # ABAB rounds of one batch vs the same calls one by one
    batch_cpu_items: int = 1_000  # items per batch when measuring the facade's own CPU per item
    queue_batch_commands: int = 3_000  # per side: as single-command messages, and as 100-item batches
    queue_batch_rounds: int = 3  # rounds of both sides, the order alternating

    def with_overrides(self, **changes: Any) -> Sizes:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


FULL = Sizes()
SMOKE = Sizes(cold_runs=3, warm_requests=200, warm_rounds=4, queue_messages=200, fanout_clients=20,
              fanout_broadcasts=3, batch_items=20, batch_rounds=2, batch_cpu_items=100, queue_batch_commands=200,
              queue_batch_rounds=1)
