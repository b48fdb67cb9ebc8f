"""Signing keys: throttled refresh on unknown kids, rotation, outages, key issuers, and
multi-tenant issuers, all against the real dev identity provider."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.idp import DEV_AUDIENCE, DEV_TENANT_ID, DevIdentityProvider
from functions.auth import TokenValidator
from functions.auth.keys import known_jwks_url
from functions.core.errors import InvalidToken, SigningKeysUnavailable

from .helpers import OTHER_TENANT_ID, THIRD_TENANT_ID, CountingServer, FakeClock, assert_no_token_in, refused

SEND = ["SignalR.Send"]


def ok(validator: TokenValidator, token: str) -> None:
    assert validator.authenticate("Bearer " + token).has_permission("SignalR.Send")


def test_keys_and_metadata_are_fetched_once_for_many_requests(idp: DevIdentityProvider, validator):
    for n in range(20):
        ok(validator, idp.mint(roles=SEND, user=f"user-{n}"))
    assert (idp.metadata_fetches, idp.jwks_fetches) == (1, 1)


def test_an_unknown_kid_causes_one_refresh_then_is_refused(idp: DevIdentityProvider, validator):
    ok(validator, idp.mint(roles=SEND))
    stranger = idp.add_key(publish=False)
    refused(validator, idp.mint(roles=SEND, key=stranger), "signing key not found")
    assert idp.jwks_fetches == 2
    for n in range(25):
        refused(validator, idp.mint(roles=SEND, key=stranger, user=f"user-{n}"), "signing key not found")
    assert idp.jwks_fetches == 2
    assert idp.metadata_fetches == 1


def test_concurrent_unknown_kids_cause_at_most_one_fetch(idp: DevIdentityProvider, validator):
    ok(validator, idp.mint(roles=SEND))
    strangers = [idp.add_key(publish=False) for _ in range(2)]
    tokens = [idp.mint(roles=SEND, key=strangers[n % 2], user=f"user-{n}") for n in range(48)]

    def attempt(token: str) -> str:
        try:
            validator.authenticate("Bearer " + token)
        except InvalidToken as e:
            return e.detail
        return "accepted"

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(attempt, tokens, timeout=20))
    assert set(results) == {"signing key not found"}
    assert idp.jwks_fetches == 2


def test_a_rotated_key_is_picked_up_without_restart(idp: DevIdentityProvider, validator, key_clock: FakeClock):
    old_token = idp.mint(roles=SEND)
    ok(validator, old_token)
    idp.rotate()
    ok(validator, idp.mint(roles=SEND))  # unknown kid: one refresh, found
    assert idp.jwks_fetches == 2

    idp.rotate()  # rotated again within five minutes: the refresh is throttled
    newest = idp.mint(roles=SEND)
    refused(validator, newest, "signing key not found")
    assert idp.jwks_fetches == 2
    key_clock.advance(299)
    refused(validator, newest, "signing key not found")
    key_clock.advance(1)
    ok(validator, newest)
    assert idp.jwks_fetches == 3


def test_the_refresh_interval_is_a_parameter(idp: DevIdentityProvider, make_validator, key_clock: FakeClock):
    validator = make_validator(min_refresh_interval=10)
    ok(validator, idp.mint(roles=SEND))
    idp.rotate()
    ok(validator, idp.mint(roles=SEND))
    idp.rotate()
    key_clock.advance(10)
    ok(validator, idp.mint(roles=SEND))
    assert idp.jwks_fetches == 3


def test_keys_are_refreshed_after_their_lifetime(idp: DevIdentityProvider, validator, key_clock: FakeClock):
    ok(validator, idp.mint(roles=SEND))
    old_kid = idp.current_kid
    idp.rotate()
    key_clock.advance(12 * 3600)
    ok(validator, idp.mint(roles=SEND, key=idp.current_kid))
    assert idp.jwks_fetches == 2  # the proactive refresh, no extra one for the new kid
    assert validator.keys.get(old_kid) is None  # the retired key is gone


def test_an_outage_with_cached_keys_keeps_working(idp: DevIdentityProvider, validator, key_clock: FakeClock):
    ok(validator, idp.mint(roles=SEND))
    idp.set_available(False)
    key_clock.advance(13 * 3600)  # due for a proactive refresh, which fails
    ok(validator, idp.mint(roles=SEND, user="after-outage"))
    stranger = idp.add_key(publish=False)
    refused(validator, idp.mint(roles=SEND, key=stranger), "signing key not found")  # 401, not 503
    fetches = idp.jwks_fetches
    for n in range(10):  # failed refreshes are throttled too
        ok(validator, idp.mint(roles=SEND, user=f"user-{n}"))
    assert idp.jwks_fetches == fetches
    idp.set_available(True)
    key_clock.advance(300)
    ok(validator, idp.mint(roles=SEND, user="recovered"))
    assert idp.jwks_fetches == fetches + 1


def test_an_outage_without_keys_is_signing_keys_unavailable(
    idp: DevIdentityProvider, validator, key_clock: FakeClock
):
    idp.set_available(False)
    token = idp.mint(roles=SEND)
    with pytest.raises(SigningKeysUnavailable) as caught:
        validator.authenticate("Bearer " + token)
    assert caught.value.status == 503
    assert caught.value.headers() == {"Retry-After": "30"}
    assert_no_token_in(caught.value, token)
    fetches = idp.fetches["metadata"]
    for _ in range(10):  # no fetch storm against a provider that is down
        with pytest.raises(SigningKeysUnavailable) as caught:
            validator.authenticate("Bearer " + token)
    assert idp.fetches["metadata"] == fetches
    key_clock.advance(20)
    with pytest.raises(SigningKeysUnavailable) as caught:
        validator.authenticate("Bearer " + token)
    assert caught.value.retry_after == 10
    idp.set_available(True)
    key_clock.advance(10)
    ok(validator, token)


def test_an_unreachable_provider_is_signing_keys_unavailable(make_validator):
    validator = make_validator(metadata_url="http://127.0.0.1:9/tenant/v2.0/.well-known/openid-configuration")
    with pytest.raises(SigningKeysUnavailable):
        validator.authenticate("Bearer " + DevIdentityProvider().mint(roles=SEND))


def test_a_key_set_without_usable_keys_is_signing_keys_unavailable(
    idp: DevIdentityProvider, validator, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(idp, "route", _only_symmetric_keys(idp.route))  # metadata answers, keys are unusable
    with pytest.raises(SigningKeysUnavailable):
        validator.authenticate("Bearer " + idp.mint(roles=SEND))


def _only_symmetric_keys(route):
    def wrapped(path: str):
        kind, document = route(path)
        return (kind, {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]} if kind == "jwks" else document)

    return wrapped


def test_a_key_whose_issuer_is_another_tenants_is_refused(idp: DevIdentityProvider, validator):
    foreign = idp.add_key(issuer=idp.issuer_for(OTHER_TENANT_ID))
    refused(validator, idp.mint(roles=SEND, key=foreign), "signing key is not valid for this issuer")


def test_keys_with_their_own_literal_issuer_or_none_are_accepted(idp: DevIdentityProvider, validator):
    ok(validator, idp.mint(roles=SEND, key=idp.add_key(issuer=idp.issuer)))
    ok(validator, idp.mint(roles=SEND, key=idp.add_key(issuer=None)))


def test_a_v1_token_may_use_a_key_bound_to_the_v2_issuer(idp: DevIdentityProvider, make_validator):
    validator = make_validator(settings={"entra_accept_v1_tokens": True})
    ok(validator, idp.mint(roles=SEND, version=1, key=idp.add_key(issuer=idp.issuer)))
    foreign = idp.add_key(issuer=idp.issuer_for(OTHER_TENANT_ID))
    refused(validator, idp.mint(roles=SEND, version=1, key=foreign), "signing key is not valid")


# -- multi-tenant ("organizations") ------------------------------------------------------


@pytest.fixture
def multi_tenant(idp: DevIdentityProvider, make_validator) -> TokenValidator:
    return make_validator(
        metadata_url=idp.metadata_url_for("organizations"),
        settings={
            "entra_tenant_id": "organizations",
            "entra_allowed_tenants": (DEV_TENANT_ID, OTHER_TENANT_ID),
            "entra_audiences": (DEV_AUDIENCE,),
        },
    )


def test_multi_tenant_accepts_allowed_tenants(idp: DevIdentityProvider, multi_tenant: TokenValidator):
    for tenant in (DEV_TENANT_ID, OTHER_TENANT_ID):
        principal = multi_tenant.authenticate("Bearer " + idp.mint(roles=SEND, tenant=tenant))
        assert principal.tenant_id == tenant


def test_multi_tenant_refuses_a_tenant_not_allowed(idp: DevIdentityProvider, multi_tenant: TokenValidator):
    refused(multi_tenant, idp.mint(roles=SEND, tenant=THIRD_TENANT_ID), "tenant not accepted")


def test_multi_tenant_refuses_a_tid_that_is_not_a_guid(idp: DevIdentityProvider, multi_tenant: TokenValidator):
    for tid in ("organizations", "{tenantid}", "common", DEV_TENANT_ID + "x"):
        refused(multi_tenant, idp.mint(roles=SEND, claims_override={"tid": tid}), "tid is not a tenant id")


def test_multi_tenant_refuses_a_tid_that_does_not_match_iss(
    idp: DevIdentityProvider, multi_tenant: TokenValidator
):
    token = idp.mint(roles=SEND, tenant=DEV_TENANT_ID, claims_override={"iss": idp.issuer_for(OTHER_TENANT_ID)})
    refused(multi_tenant, token, "issuer not accepted")
    template = idp.mint(roles=SEND, claims_override={"iss": idp.issuer_for("{tenantid}")})
    refused(multi_tenant, template, "issuer not accepted")


def test_multi_tenant_refuses_a_key_bound_to_another_tenant(
    idp: DevIdentityProvider, multi_tenant: TokenValidator
):
    bound = idp.add_key(issuer=idp.issuer_for(OTHER_TENANT_ID))
    ok(multi_tenant, idp.mint(roles=SEND, tenant=OTHER_TENANT_ID, key=bound))
    refused(multi_tenant, idp.mint(roles=SEND, tenant=DEV_TENANT_ID, key=bound), "signing key is not valid")


def test_an_entra_shaped_configuration_url_names_its_key_url():
    base = "https://login.microsoftonline.com/organizations"
    assert known_jwks_url(f"{base}/v2.0/.well-known/openid-configuration") == f"{base}/discovery/v2.0/keys"
    assert known_jwks_url("https://idp.example/.well-known/openid-configuration") is None
    assert known_jwks_url(f"{base}/v2.0/.well-known/openid-configuration?appid=x") is None


def test_with_the_key_url_known_keys_are_fetched_alongside_the_configuration(
    idp: DevIdentityProvider, make_validator, monkeypatch: pytest.MonkeyPatch
):
    keys_asked = threading.Event()
    asked_before_configuration_answered: list[bool] = []
    route = idp.route

    def configuration_answers_only_once_keys_are_asked(path: str):
        kind, document = route(path)
        if kind == "jwks":
            keys_asked.set()
        elif kind == "metadata":
            # A key fetch that waited for this answer would not come within the (bounded) wait.
            asked_before_configuration_answered.append(keys_asked.wait(2))
        return kind, document

    monkeypatch.setattr(idp, "route", configuration_answers_only_once_keys_are_asked)
    validator = make_validator(jwks_url=idp.jwks_url)
    ok(validator, idp.mint(roles=SEND))
    assert asked_before_configuration_answered == [True]
    assert (idp.metadata_fetches, idp.jwks_fetches) == (1, 1)


def test_the_configuration_decides_where_the_keys_are(idp: DevIdentityProvider, make_validator,
                                                      counting_server: CountingServer):
    # A guessed key URL the configuration does not name is never trusted, even if it answered.
    validator = make_validator(jwks_url=counting_server.url + "/discovery/v2.0/keys")
    ok(validator, idp.mint(roles=SEND))
    assert idp.jwks_fetches == 1


def test_prefetch_loads_the_keys_before_the_first_request(idp: DevIdentityProvider, validator):
    validator.keys.prefetch()
    assert (idp.metadata_fetches, idp.jwks_fetches) == (1, 1)
    ok(validator, idp.mint(roles=SEND))
    validator.keys.prefetch()  # already loaded: nothing more
    assert (idp.metadata_fetches, idp.jwks_fetches) == (1, 1)


def test_a_failed_prefetch_leaves_the_first_request_its_own_try(idp: DevIdentityProvider, validator):
    idp.set_available(False)
    validator.keys.prefetch()
    idp.set_available(True)
    ok(validator, idp.mint(roles=SEND))  # not throttled by the failed warm-up
    assert validator.keys.fetch_attempts == 2
