"""A local Azure SignalR Service (serverless mode) for development and tests.

REST data plane (``/api/v1/...`` and ``/api/...?api-version=``) with AccessKey JWTs checked
like the service (signature, ``exp``, exact ``aud``), Microsoft Entra ID tokens when an issuer
is configured (signature by its JWKS, ``iss``, ``aud``, ``exp``), client negotiate and WebSocket with the
JSON hub protocol, users, groups with TTL, exclusions, close with reason; with an upstream URL
template (``--upstream``), client events POSTed as the service does (``upstream.py``).
"""

from __future__ import annotations

from devstack.constants import DEV_ACCESS_KEY

from .app import create_app
from .emulator import Emulator, Timings
from .entra_auth import EntraTrust
from .server import EmulatorServer

__all__ = ["DEV_ACCESS_KEY", "Emulator", "EmulatorServer", "EntraTrust", "Timings", "create_app"]
