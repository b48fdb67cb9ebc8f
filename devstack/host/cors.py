"""CORS as the Functions host applies it: ``Host.CORS`` and ``Host.CORSCredentials`` in local settings.

In Azure the same rules come from the site's ``siteConfig.cors`` (``allowedOrigins``,
``supportCredentials``), which infra/bicep writes. Like ASP.NET Core's CORS middleware,
which both the platform and Core Tools use:

- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) from an
  allowed origin gets 204 with the origin echoed, the asked method and headers allowed, and
  ``Access-Control-Allow-Credentials: true`` when credentials are supported; from any other
  origin, 204 with no CORS header, so the browser refuses;
- an actual request from an allowed origin gets the origin (never ``*`` with credentials)
  and ``Vary: Origin`` on its answer.

``*`` together with credentials is refused as a configuration error, as ASP.NET Core refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class CorsConfigError(ValueError):
    """Raised when the CORS settings cannot be applied (``*`` with credentials)."""


@dataclass(frozen=True)
class CorsPolicy:
    origins: frozenset[str] = frozenset()
    allow_credentials: bool = False

    def __post_init__(self) -> None:
        if self.allow_credentials and "*" in self.origins:
            raise CorsConfigError("Host.CORS '*' cannot be combined with Host.CORSCredentials: list the origins")

    @classmethod
    def from_host_settings(cls, host: Mapping[str, object]) -> CorsPolicy:
        origins = str(host.get("CORS") or "")
        credentials = host.get("CORSCredentials")
        return cls(frozenset(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
                   credentials is True or str(credentials).lower() == "true")

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and ("*" in self.origins or origin in self.origins)

    def is_preflight(self, method: str, headers: Mapping[str, str]) -> bool:
        return self.enabled and method == "OPTIONS" and "Origin" in headers \
            and "Access-Control-Request-Method" in headers

    def preflight_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The answer's headers to a preflight (empty when the origin is not allowed)."""
        origin = headers.get("Origin")
        if not self.allows(origin):
            return {}
        answer = self._origin_headers(origin)
        answer["Access-Control-Allow-Methods"] = headers.get("Access-Control-Request-Method", "")
        if headers.get("Access-Control-Request-Headers"):
            answer["Access-Control-Allow-Headers"] = headers["Access-Control-Request-Headers"]
        return answer

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers to add to an actual request's answer (empty when CORS is off or the origin not allowed)."""
        origin = headers.get("Origin")
        return self._origin_headers(origin) if self.enabled and self.allows(origin) else {}

    def _origin_headers(self, origin: str | None) -> dict[str, str]:
        assert origin is not None
        if "*" in self.origins and not self.allow_credentials:
            return {"Access-Control-Allow-Origin": "*"}
        answer = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if self.allow_credentials:
            answer["Access-Control-Allow-Credentials"] = "true"
        return answer
