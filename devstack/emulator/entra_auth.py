"""Microsoft Entra ID bearer tokens on the REST API, checked as the service checks them.

With ``AuthType=azure.msi`` (and every other Entra kind) the SDKs send an RS256 access token
for the resource ``https://signalr.azure.com`` instead of an AccessKey JWT
(https://learn.microsoft.com/azure/azure-signalr/signalr-howto-authorize-managed-identity).
The emulator accepts such a token when it is signed by a key of the configured issuer's
JWKS, names that issuer exactly, is for the SignalR audience and is not expired; the same
strictness as AccessKey tokens (:mod:`.auth`). Keys come from PyJWT's ``PyJWKClient``
(cached, refreshed once for an unknown ``kid``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt

from .auth import TokenRejected, decode

SIGNALR_AUDIENCE = "https://signalr.azure.com"
ALGORITHMS = ["RS256"]


def is_entra_token(token: str) -> bool:
    """True for an RS256 token (Entra); AccessKey tokens are HS256."""
    try:
        return jwt.get_unverified_header(token).get("alg") == "RS256"
    except jwt.PyJWTError:
        return False


@dataclass
class EntraTrust:
    """Which Entra tokens the emulator's REST API accepts."""

    issuer: str
    jwks_url: str
    audience: str = SIGNALR_AUDIENCE
    _keys: jwt.PyJWKClient = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._keys = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=300, timeout=5)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or TokenRejected with a reason safe to return. Blocking (may fetch keys)."""
        try:
            key = self._keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as e:
            raise TokenRejected("The signing keys could not be fetched.") from e
        except jwt.PyJWTError as e:
            raise TokenRejected("The signing key is unknown.") from e
        # Microsoft.IdentityModel tolerates a trailing slash on the audience; so does the emulator.
        return decode(
            token, key.key, algorithms=ALGORITHMS, issuer=self.issuer,
            audience=[self.audience, self.audience + "/"], options={"require": ["exp", "iss", "aud"]},
        )
