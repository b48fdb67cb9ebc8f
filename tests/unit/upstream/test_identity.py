"""Managed identity: the SignalR resource's token for the facade's API, and nothing else."""

from __future__ import annotations

import pytest

from .conftest import SIGNALR_IDENTITY, service_headers

OTHER_IDENTITY = "11111111-2222-4333-8444-555555555555"
OTHER_TENANT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def with_token(token: str) -> dict:
    # The service sends no signature when the upstream uses managed identity.
    return service_headers(keys=(), Authorization=f"Bearer {token}")


def test_the_signalr_identitys_token_is_accepted(deliver, identity_provider):
    delivery = deliver(with_token(identity_provider.mint(user=SIGNALR_IDENTITY)))
    assert delivery.status == 204
    assert delivery.envelope["authenticatedBy"] == "identity"


def test_the_identity_may_be_named_by_its_app_id(deliver, identity_provider, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.setenv("SIGNALR_UPSTREAM_IDENTITIES", "00000000-0000-0000-0000-0000000000c1")
    reset_facade()
    token = identity_provider.mint(user=OTHER_IDENTITY, claims_override={"azp": "00000000-0000-0000-0000-0000000000c1"})
    assert deliver(with_token(token)).status == 204


def test_a_token_of_another_app_id_is_403(deliver, identity_provider, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.setenv("SIGNALR_UPSTREAM_IDENTITIES", "00000000-0000-0000-0000-0000000000c1")
    reset_facade()
    token = identity_provider.mint(user=OTHER_IDENTITY, claims_override={"azp": "00000000-0000-0000-0000-0000000000c2"})
    delivery = deliver(with_token(token))
    assert delivery.status == 403
    assert delivery.queued is None


@pytest.mark.parametrize("mint_args", [
    {"audience": "api://someone-else"},
    {"tenant": OTHER_TENANT},
    {"lifetime": -600},
], ids=["wrong audience", "wrong tenant", "expired"])
def test_an_invalid_token_is_401_and_nothing_is_queued(deliver, identity_provider, mint_args):
    delivery = deliver(with_token(identity_provider.mint(user=SIGNALR_IDENTITY, **mint_args)))
    assert delivery.status == 401
    assert delivery.queued is None


def test_a_valid_token_of_another_identity_is_403_and_nothing_is_queued(deliver, identity_provider):
    delivery = deliver(with_token(identity_provider.mint(user=OTHER_IDENTITY)))
    assert delivery.status == 403
    assert delivery.queued is None


def test_a_delegated_user_token_is_never_the_service(deliver, identity_provider):
    token = identity_provider.mint(user=SIGNALR_IDENTITY, scopes=["SignalR.Send"])
    assert deliver(with_token(token)).status == 403


def test_with_no_identity_listed_no_token_is_accepted(deliver, identity_provider, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.delenv("SIGNALR_UPSTREAM_IDENTITIES")
    reset_facade()
    assert deliver(with_token(identity_provider.mint(user=SIGNALR_IDENTITY))).status == 403


def test_a_token_does_not_fall_back_to_the_signature(deliver, identity_provider):
    # A valid signature beside a forged token is still refused: the token is what was presented.
    headers = service_headers(Authorization="Bearer not.a.token")
    assert deliver(headers).status == 401


def test_a_malformed_identity_list_fails_closed(deliver, identity_provider, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.setenv("SIGNALR_UPSTREAM_IDENTITIES", "signalr-resource")
    reset_facade()
    assert deliver(with_token(identity_provider.mint(user=SIGNALR_IDENTITY))).status == 500
