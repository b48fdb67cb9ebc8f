"""Upstream events: what the SignalR Service POSTs when clients connect, invoke, disconnect.

``signature`` proves a request came from the service, ``events`` turns its body into the
envelope backends read from the events queue, ``receiver`` runs the steps in order,
``trigger`` is the HTTP function the service calls.
"""

from __future__ import annotations

from functions.upstream.trigger import bp

__all__ = ["bp"]
