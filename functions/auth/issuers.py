"""Which tenants and issuers the facade trusts (Microsoft.Identity.Web's AadIssuerValidator).

The v2 issuer comes from the provider's OpenID configuration: a tenant's configuration
names it literally, the ``organizations`` one as ``.../{tenantid}/v2.0``. The token's
``tid`` (a GUID, on the allow-list) is substituted and ``iss`` must then match exactly,
never by prefix or suffix. The v1 issuer (``https://sts.windows.net/{tid}/``) is accepted
only when ``ENTRA_ACCEPT_V1_TOKENS`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.core.errors import ConfigurationError, InvalidToken
from functions.core.settings import ENTRA_METADATA_URL, Settings, is_guid

TENANT_TEMPLATE = "{tenantid}"
V1_ISSUER = "https://sts.windows.net/{tenantid}/"
ENTRA_AUTHORITY = "https://login.microsoftonline.com"


def metadata_url_for(settings: Settings) -> str:
    """The OpenID configuration to trust: the override, else Entra's v2 one for the tenant."""
    if settings.entra_metadata_url:
        return settings.entra_metadata_url
    return f"{ENTRA_AUTHORITY}/{settings.entra_tenant_id}/v2.0/.well-known/openid-configuration"


@dataclass(frozen=True)
class IssuerPolicy:
    tenant_id: str | None  # lower-case GUID; None when multi-tenant
    allowed_tenants: frozenset[str]
    accept_v1: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> IssuerPolicy:
        single = None if settings.is_multi_tenant else (settings.entra_tenant_id or "").lower()
        return cls(
            tenant_id=single,
            allowed_tenants=frozenset(settings.entra_allowed_tenants),
            accept_v1=settings.entra_accept_v1_tokens,
        )

    def check_tenant(self, tid: object) -> str:
        """The token's tenant, if the facade serves it."""
        if not isinstance(tid, str) or not is_guid(tid):
            raise InvalidToken("tid is not a tenant id")
        lowered = tid.lower()
        if self.tenant_id is not None:
            if lowered != self.tenant_id:
                raise InvalidToken("tenant not accepted")
        elif lowered not in self.allowed_tenants:
            raise InvalidToken("tenant not accepted")
        return tid

    def v2_issuer(self, template: str, tid: str) -> str:
        if TENANT_TEMPLATE in template:
            return template.replace(TENANT_TEMPLATE, tid)
        # A literal issuer is only right for the single tenant it names.
        if self.tenant_id is None or self.tenant_id not in template.lower():
            raise ConfigurationError(f"the issuer at {ENTRA_METADATA_URL} does not match the tenant")
        return template

    def token_version(self, iss: object, tid: str, template: str) -> str:
        """``"2.0"`` or ``"1.0"`` for an issuer the facade accepts; InvalidToken otherwise."""
        if not isinstance(iss, str):
            raise InvalidToken("iss is not a string")
        if iss == self.v2_issuer(template, tid):
            return "2.0"
        if iss == V1_ISSUER.replace(TENANT_TEMPLATE, tid):
            if self.accept_v1:
                return "1.0"
            raise InvalidToken("v1.0 tokens are not accepted")
        raise InvalidToken("issuer not accepted")

    def check_key_issuer(self, key_issuer: str | None, iss: str, tid: str, template: str) -> None:
        """A key that names its issuer signs only for it (v1 tokens: its v2 form)."""
        if not key_issuer:
            return
        effective = key_issuer.replace(TENANT_TEMPLATE, tid)
        if effective != iss and effective != self.v2_issuer(template, tid):
            raise InvalidToken("signing key is not valid for this issuer")
