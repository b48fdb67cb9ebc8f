"""AccessKey JWT checks, as strict as the real service (the official emulator checks only
the signature, so audience bugs would pass locally and fail in Azure).

Both kinds of token are HS256, signed with the access key's UTF-8 bytes, and must carry
``exp`` and an ``aud`` equal to a URL built without the port:
- server (REST) tokens: ``<scheme>://<host><raw path>``, no query, no trailing slash;
- client tokens: ``<scheme>://<host>/client/?hub=<hub>``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import jwt

ALGORITHMS = ["HS256"]

# Claims that carry the user id: newer SDKs write asrs.s.uid, older ones nameid (or its long form).
USER_ID_CLAIMS = (
    "asrs.s.uid",
    "nameid",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
)


class TokenRejected(Exception):
    """Raised when a bearer token is missing or fails a check; the message is safe to return."""


# What a caller is told for each PyJWT failure, first match wins; anything else is "invalid".
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "The token is expired."),
    (jwt.InvalidAudienceError, "The audience is invalid."),
    (jwt.InvalidIssuerError, "The issuer is invalid."),
    (jwt.InvalidSignatureError, "The signature is invalid."),
    (jwt.InvalidAlgorithmError, "The signing algorithm is not allowed."),
)


def decode(token: str, key: Any, **checks: Any) -> dict[str, Any]:
    """``jwt.decode`` whose failures are TokenRejected with a reason safe to return."""
    try:
        return jwt.decode(token, key, **checks)
    except jwt.MissingRequiredClaimError as e:
        missing = "expiration time" if e.claim == "exp" else f"'{e.claim}' claim"
        raise TokenRejected(f"The token has no {missing}.") from e
    except jwt.PyJWTError as e:
        reason = next((reason for kind, reason in _REASONS if isinstance(e, kind)), "The token is invalid.")
        raise TokenRejected(reason) from e


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def host_without_port(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):  # IPv6 literal: [::1]:8888
        return host[: host.find("]") + 1]
    return host.partition(":")[0]


def server_audience(scheme: str, host_header: str, raw_path: str) -> str:
    # The raw path is compared still percent-encoded: the SDK signs exactly what it sends.
    path = raw_path.partition("?")[0].rstrip("/")
    return f"{scheme}://{host_without_port(host_header)}{path}"


def client_audience(scheme: str, host_header: str, hub: str) -> str:
    return f"{scheme}://{host_without_port(host_header)}/client/?hub={hub.lower()}"


def _audiences(claims: Mapping[str, Any]) -> Iterable[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def verify(token: str | None, key: str, audience: str, *, case_sensitive: bool = True) -> dict[str, Any]:
    """Return the token's claims, or raise TokenRejected with the reason."""
    if not token:
        raise TokenRejected("Missing access token.")
    claims = decode(token, key.encode("utf-8"), algorithms=ALGORITHMS,
                    options={"require": ["exp"], "verify_aud": False})
    # Like Microsoft.IdentityModel (IgnoreTrailingSlashWhenValidatingAudience): a trailing
    # slash on the claim is tolerated; anything else must match exactly.
    wanted = audience if case_sensitive else audience.lower()
    for aud in _audiences(claims):
        candidate = aud if case_sensitive else aud.lower()
        if candidate == wanted or candidate.rstrip("/") == wanted:
            return claims
    raise TokenRejected("The audience is invalid.")


def user_id(claims: Mapping[str, Any]) -> str | None:
    for name in USER_ID_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def mint_client_token(key: str, audience: str, user: str | None, lifetime_seconds: int) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"aud": audience, "iat": now, "nbf": now, "exp": now + lifetime_seconds}
    if user:
        claims["nameid"] = user
        claims["asrs.s.uid"] = user
    return jwt.encode(claims, key.encode("utf-8"), algorithm="HS256")

