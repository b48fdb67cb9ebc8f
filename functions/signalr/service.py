"""What the facade needs of SignalR, whether one endpoint or several answer.

``SignalRClient`` (one endpoint) and ``EndpointRouter`` (several, routed as the SDK routes)
both provide this protocol, so callers never probe which one they hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from functions.core.command import Command
    from functions.signalr.client import SignalRClient, UpstreamResult


class SignalRService(Protocol):
    """One endpoint, or a router over several."""

    @property
    def clients(self) -> tuple[SignalRClient, ...]:
        """Every endpoint's client (one for a single endpoint): each has its own credential to warm up."""
        ...

    def execute(
        self, command: Command, *, method: str | None = None, extra_query: list[tuple[str, Any]] | None = None
    ) -> UpstreamResult:
        """Carry out a validated command (raises a ``FacadeError`` when SignalR did not do it)."""
        ...

    def for_negotiate(self) -> SignalRClient:
        """The endpoint a client is sent to."""
        ...

    def generate_client_token(self, hub: str, user_id: str, minutes: int) -> str:
        """A client access token minted by the service for ``hub`` (application prefix included)."""
        ...

    def health(self) -> int:
        """An HTTP-like status for the service's health: 200 when it can be used."""
        ...

    def report(self) -> dict[str, Any] | None:
        """Each endpoint's state from background probes; None where there are none (checked on demand)."""
        ...

    def close(self) -> None:
        """Release connections and threads (tests that rebuild the facade call it)."""
        ...
