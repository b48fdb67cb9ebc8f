"""Soak: the whole stack under steady load with faults injected (``python -m bench.soak``)."""
