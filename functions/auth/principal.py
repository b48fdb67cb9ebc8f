"""Who is calling: the facts the facade keeps from a validated Entra ID access token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    A delegated token (one with ``scp``: a client app acting for a user) holds exactly the
    scopes the user consented to that client app; the user's own app roles do not widen them,
    or a client consented only for ``SignalR.Read`` could close connections for a user who
    holds a role. An app-only token (no ``scp``) holds its app roles (``roles``). The names
    are the same in both. A principal with neither is authenticated but may do nothing that
    needs a permission (Microsoft.Identity.Web's IDW10201, which it answers with 403).
    """

    object_id: str
    subject: str
    tenant_id: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    is_app: bool = False
    token_version: str = "2.0"
    client_app_id: str = ""  # the calling application: ``azp`` (v2) or ``appid`` (v1)

    @property
    def user_id(self) -> str:
        """The stable identity to act as: ``oid`` (per tenant), else ``sub``."""
        return self.object_id or self.subject

    @property
    def permissions(self) -> frozenset[str]:
        """What this token may do: app roles for an app-only token, scopes for a delegated one."""
        return self.roles if self.is_app else self.scopes

    @property
    def has_any_permission(self) -> bool:
        return bool(self.permissions)

    def has_permission(self, name: str) -> bool:
        return name in self.permissions

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], token_version: str) -> Principal:
        """Build from claims whose signature, issuer, audience and lifetime are already checked.

        Raises ``ValueError`` when a claim has a shape Entra never issues.
        """
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ValueError("roles must be a list of strings")
        scp = claims.get("scp")
        if scp is not None and not isinstance(scp, str):
            raise ValueError("scp must be a string")
        subject = claims.get("sub")
        oid = claims.get("oid")
        if not isinstance(subject, str) or not subject:
            raise ValueError("sub must be a non-empty string")
        if oid is not None and not isinstance(oid, str):
            raise ValueError("oid must be a string")
        return cls(
            object_id=oid or subject,
            subject=subject,
            tenant_id=claims["tid"],
            roles=frozenset(roles),
            scopes=frozenset(scp.split()) if scp else frozenset(),
            # Only delegated (user) tokens carry scp; idtyp=app is the explicit marker. A token that
            # says idtyp=user is never an app token, whatever it lacks: its roles are the user's,
            # not an app's grant, so without scp it holds no permission at all.
            is_app=claims.get("idtyp") == "app" or (scp is None and claims.get("idtyp") != "user"),
            token_version=token_version,
            client_app_id=str(claims.get("azp") or claims.get("appid") or "").lower(),
        )
