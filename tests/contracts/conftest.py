"""Microsoft's published contracts, as facts extracted into data/, and the tests that hold the facade to them.

They run in-process, so they are in the unit lane (``make test-unit`` runs them too).
"""

from __future__ import annotations

from support.lanes import lane

pytest_itemcollected = lane("unit")
