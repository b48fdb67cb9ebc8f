"""The integration lane: through the local Functions host and Azurite, and checkov over the templates."""

from __future__ import annotations

from support.lanes import lane

pytest_itemcollected = lane("integration")
