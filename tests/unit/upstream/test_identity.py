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


def test_once_identities_are_listed_a_signature_alone_is_401(deliver, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.delenv("SIGNALR_UPSTREAM_ACCEPT_SIGNATURES")
    reset_facade()
    delivery = deliver(service_headers())  # validly signed with the connection string's key
    assert delivery.status == 401
    assert delivery.queued is None


def test_during_a_migration_both_a_signature_and_a_token_are_accepted(deliver, identity_provider, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.setenv("SIGNALR_UPSTREAM_ACCEPT_SIGNATURES", "true")
    reset_facade()
    assert deliver(service_headers()).envelope["authenticatedBy"] == "signature"
    assert deliver(with_token(identity_provider.mint(user=SIGNALR_IDENTITY))).envelope["authenticatedBy"] == "identity"


def test_without_identities_a_signature_is_enough(deliver, upstream_env):
    from functions.core.facade import reset_facade

    upstream_env.delenv("SIGNALR_UPSTREAM_IDENTITIES")
    upstream_env.delenv("SIGNALR_UPSTREAM_ACCEPT_SIGNATURES")
    reset_facade()
    assert deliver(service_headers()).status == 204


def test_a_malformed_migration_switch_fails_closed(deliver, upstream_env):
    from functions.core.facade import reset_facade
    from functions.core.settings import Settings

    upstream_env.setenv("SIGNALR_UPSTREAM_ACCEPT_SIGNATURES", "sometimes")
    reset_facade()
    assert deliver(service_headers()).status == 500
    assert "SIGNALR_UPSTREAM_ACCEPT_SIGNATURES must be true or false" in Settings.from_environ().problems()
