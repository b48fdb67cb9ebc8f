"""Entra bearer tokens on the emulator's REST API are refused with the reason, as AccessKey tokens are."""

from __future__ import annotations

import pytest

from devstack.emulator.auth import TokenRejected
from devstack.emulator.entra_auth import SIGNALR_AUDIENCE, EntraTrust
from devstack.idp import DevIdentityProvider


@pytest.fixture(scope="module")
def entra_trust(identity_provider: DevIdentityProvider) -> EntraTrust:
    return EntraTrust(identity_provider.issuer, identity_provider.jwks_url)


def test_a_token_of_the_issuer_for_signalr_is_accepted(
    entra_trust: EntraTrust, identity_provider: DevIdentityProvider
) -> None:
    claims = entra_trust.verify(identity_provider.mint(audience=SIGNALR_AUDIENCE, user="mi"))
    assert (claims["aud"], claims["oid"]) == (SIGNALR_AUDIENCE, "mi")


@pytest.mark.parametrize(
    ("mint", "reason"),
    [
        ({"audience": "https://management.azure.com"}, "The audience is invalid."),
        ({"tenant": "00000000-0000-0000-0000-00000000000b"}, "The issuer is invalid."),
        ({"lifetime": -60}, "The token is expired."),
        ({"claims_override": {"iss": None}}, "The token has no 'iss' claim."),
        ({"claims_override": {"exp": None}}, "The token has no expiration time."),
    ],
    ids=["other-audience", "other-issuer", "expired", "no-iss", "no-exp"],
)
def test_a_bad_token_is_refused_with_its_reason(
    entra_trust: EntraTrust, identity_provider: DevIdentityProvider, mint: dict, reason: str
) -> None:
    token = identity_provider.mint(**{"audience": SIGNALR_AUDIENCE, **mint})
    with pytest.raises(TokenRejected) as refused:
        entra_trust.verify(token)
    assert str(refused.value) == reason


def test_a_token_signed_by_an_unpublished_key_is_refused(
    entra_trust: EntraTrust, identity_provider: DevIdentityProvider
) -> None:
    token = identity_provider.mint(audience=SIGNALR_AUDIENCE, key=identity_provider.add_key(publish=False))
    with pytest.raises(TokenRejected, match="The signing key is unknown"):
        entra_trust.verify(token)
