"""The claims of an Entra-shaped access token, for the development identity provider.

The shape follows Entra's access token reference
(https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference):
v2 tokens name the client in ``azp``, v1 tokens in ``appid``; delegated tokens carry ``scp``,
app-only ones ``idtyp: app``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any


def access_token_claims(
    *,
    issuer: str,
    tenant: str,
    audience: str,
    user: str,
    client_id: str,
    roles: Iterable[str] = (),
    scopes: Iterable[str] = (),
    lifetime: int = 3600,
    version: int = 2,
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": issuer,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "oid": user,
        "sub": user,
        "tid": tenant,
        "uti": uuid.uuid4().hex[:22],
        "ver": "2.0" if version == 2 else "1.0",
    }
    if version == 2:
        claims.update(azp=client_id, azpacr="1")
    else:
        claims.update(appid=client_id, appidacr="1")
    roles, scopes = list(roles), list(scopes)
    if roles:
        claims["roles"] = roles
    if scopes:
        claims["scp"] = " ".join(scopes)
    else:
        claims["idtyp"] = "app"
    return claims


def merge(target: dict[str, Any], changes: Mapping[str, Any] | None) -> None:
    """Apply ``changes`` to ``target``; a value of None removes that member."""
    for name, value in (changes or {}).items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
