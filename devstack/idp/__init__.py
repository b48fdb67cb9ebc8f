"""The development identity provider (never deployed): Entra-ID-shaped tokens on loopback.

``provider`` is the provider itself (``python -m devstack.idp``); ``http`` its HTTP face,
``state`` its keys and files, ``tokens`` the claims it mints.
"""

from __future__ import annotations

from devstack.idp.provider import (
    ALL_PERMISSIONS,
    DEV_AUDIENCE,
    DEV_CLIENT_ID,
    DEV_TENANT_ID,
    DEV_USER_ID,
    V1_ISSUER,
    DevIdentityProvider,
    mint_from_state,
)

__all__ = ["ALL_PERMISSIONS", "DEV_AUDIENCE", "DEV_CLIENT_ID", "DEV_TENANT_ID", "DEV_USER_ID", "V1_ISSUER",
           "DevIdentityProvider", "mint_from_state"]
