"""The commands queue: backends drop commands (or batches) on a Storage queue; nothing is lost silently.

``trigger`` is the queue trigger; ``batch`` accounts for every item of a batch carried by one message.
"""

from __future__ import annotations

from functions.queue.trigger import bp

__all__ = ["bp"]
