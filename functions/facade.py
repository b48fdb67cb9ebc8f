"""The request path every trigger shares: authenticate → validate → authorize → forward.

Order matters: an unauthenticated caller learns nothing but 401; a bad input is 400 before
any permission is weighed; a refused request never reaches SignalR. Heavy parts (the
SignalR client, the token validator) are built on first use and then kept for the life of
the worker, so connections, keys and tokens are reused across invocations.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from .errors import PermissionDenied
from .settings import Settings, get_settings
from .signalr.client import SignalRClient, UpstreamResult
from .signalr.connection_string import parse_connection_string
from .validation import Command

if TYPE_CHECKING:
    from .auth.principal import Principal
    from .auth.validator import TokenValidator


def check_hub_allowed(settings: Settings, hub: str) -> None:
    if settings.allowed_hubs is not None and hub.lower() not in settings.allowed_hubs:
        raise PermissionDenied(f"Hub '{hub}' is not open to this facade")


def authorize(settings: Settings, principal: Principal, command: Command) -> None:
    """Raise PermissionDenied unless the caller holds the operation's permission on its hub."""
    needed = command.spec.permission.value
    if not principal.has_permission(needed):
        raise PermissionDenied(f"This operation needs the permission '{needed}' (as an app role or a scope)")
    check_hub_allowed(settings, command.hub)


class Facade:
    """The shared core of the HTTP and queue triggers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def client(self) -> SignalRClient:
        return SignalRClient(parse_connection_string(self.settings.signalr_connection_string))

    @cached_property
    def validator(self) -> TokenValidator:
        from .auth.validator import TokenValidator

        return TokenValidator(self.settings)

    def authenticate(self, authorization: str | None) -> Principal:
        return self.validator.authenticate(authorization)

    def forward(self, command: Command, *, method: str | None = None) -> UpstreamResult:
        return self.client.execute(command, method=method)


_lock = threading.Lock()
_facade: Facade | None = None


def get_facade() -> Facade:
    """The worker's one Facade (built once; thread-safe)."""
    global _facade
    if _facade is None:
        with _lock:
            if _facade is None:
                _facade = Facade(get_settings())
    return _facade


def reset_facade() -> None:
    """Forget the cached settings and clients (tests, and the local host on settings change)."""
    global _facade
    with _lock:
        _facade = None
        get_settings.cache_clear()
