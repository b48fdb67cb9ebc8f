"""The slow lane: fuzzing, the short soak, the benchmarks' smoke run."""

from __future__ import annotations

from support.lanes import lane

pytest_itemcollected = lane("slow")
