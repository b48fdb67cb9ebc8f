"""``POST /api/v1/batch``: many commands in one call, one result per item, in order.

The batch format and the runner are the core's (``functions.core.batch``,
``functions.core.batch_runner``): the commands queue carries batches too.
"""

from __future__ import annotations

from functions.batch.trigger import bp

__all__ = ["bp"]
