"""Entra ID authentication: bearer token in, :class:`Principal` out.

``TokenValidator`` (and with it PyJWT and cryptography) is imported on first use only, so
a worker that never authenticates (queue triggers) does not pay for it at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.auth.principal import Principal

if TYPE_CHECKING:
    from functions.auth.keys import SigningKeyCache
    from functions.auth.validator import TokenValidator

__all__ = ["Principal", "SigningKeyCache", "TokenValidator"]


def __getattr__(name: str) -> Any:
    if name == "TokenValidator":
        from functions.auth.validator import TokenValidator

        return TokenValidator
    if name == "SigningKeyCache":
        from functions.auth.keys import SigningKeyCache

        return SigningKeyCache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
