"""The end-to-end lane: the whole stack with the official SignalR clients and a real browser."""

from __future__ import annotations

from support.lanes import lane

pytest_itemcollected = lane("e2e")
