"""Tokens the validator accepts, what it makes of them, and how it is configured."""

from __future__ import annotations

import time

import pytest

from devstack.idp import DEV_AUDIENCE, DEV_CLIENT_ID, DEV_TENANT_ID, DevIdentityProvider
from functions.auth import Principal, TokenValidator
from functions.catalog.operations import Permission
from functions.core.errors import ConfigurationError, MissingToken
from functions.core.settings import Settings

from .helpers import FakeClock, refused

PERMISSIONS = tuple(p.value for p in Permission)


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_an_app_token_grants_its_role(idp: DevIdentityProvider, validator: TokenValidator, permission: str):
    principal = validator.authenticate("Bearer " + idp.mint(roles=[permission]))
    assert principal.has_permission(permission)
    assert [p for p in PERMISSIONS if principal.has_permission(p)] == [permission]
    assert principal.is_app
    assert principal.tenant_id == DEV_TENANT_ID
    assert principal.token_version == "2.0"


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_a_delegated_token_grants_its_scope(
    idp: DevIdentityProvider, validator: TokenValidator, permission: str
):
    principal = validator.authenticate("Bearer " + idp.mint(scopes=["openid", permission]))
    assert principal.has_permission(permission)
    assert principal.scopes == {"openid", permission}
    assert not principal.is_app


def test_principal_identity_is_oid_then_sub(idp: DevIdentityProvider, validator: TokenValidator):
    principal = validator.authenticate("Bearer " + idp.mint(scopes=["SignalR.Send"], user="user-1"))
    assert (principal.user_id, principal.object_id, principal.subject) == ("user-1", "user-1", "user-1")
    without_oid = idp.mint(scopes=["SignalR.Send"], claims_override={"oid": None, "sub": "pairwise-sub"})
    assert validator.authenticate("Bearer " + without_oid).user_id == "pairwise-sub"


def test_idtyp_app_marks_an_app_even_with_scopes(idp: DevIdentityProvider, validator: TokenValidator):
    token = idp.mint(scopes=["SignalR.Send"], claims_override={"idtyp": "app"})
    assert validator.authenticate("Bearer " + token).is_app


def test_idtyp_user_is_never_an_app_token_whatever_it_lacks(idp: DevIdentityProvider, validator: TokenValidator):
    """Issue 22, item 7: a user token without scp but with roles was read as an app-only token."""
    token = idp.mint(roles=["SignalR.Send"], claims_override={"idtyp": "user"})
    principal = validator.authenticate("Bearer " + token)
    assert not principal.is_app
    assert not principal.has_permission("SignalR.Send")  # the user's roles are not an app's grant
    assert not principal.has_any_permission


def test_a_token_with_neither_scp_nor_roles_authenticates_without_permissions(
    idp: DevIdentityProvider, validator: TokenValidator
):
    principal = validator.authenticate("Bearer " + idp.mint())
    assert not principal.has_any_permission
    assert not any(principal.has_permission(p) for p in PERMISSIONS)


def test_principal_from_claims_refuses_shapes_entra_never_issues():
    base = {"sub": "s", "tid": DEV_TENANT_ID}
    for bad in ({"roles": "SignalR.Send"}, {"roles": [1]}, {"scp": ["a"]}, {"sub": ""}, {"oid": 5}):
        with pytest.raises(ValueError, match="must be"):
            Principal.from_claims({**base, **bad}, "2.0")


def test_the_scheme_is_case_insensitive(idp: DevIdentityProvider, validator: TokenValidator):
    token = idp.mint(roles=["SignalR.Send"])
    for scheme in ("bearer", "BEARER", "Bearer"):
        assert validator.authenticate(f"{scheme} {token}").has_permission("SignalR.Send")


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_no_bearer_token_is_missing_token(validator: TokenValidator, header: str | None):
    with pytest.raises(MissingToken):
        validator.authenticate(header)


def test_v1_tokens_are_accepted_when_configured(idp: DevIdentityProvider, make_validator):
    validator = make_validator(settings={"entra_accept_v1_tokens": True})
    principal = validator.authenticate("Bearer " + idp.mint(version=1, roles=["SignalR.Read"]))
    assert principal.token_version == "1.0"
    assert principal.has_permission("SignalR.Read")
    # v2 still works alongside.
    assert validator.authenticate("Bearer " + idp.mint(roles=["SignalR.Read"])).token_version == "2.0"


def test_v1_tokens_are_refused_by_default(idp: DevIdentityProvider, validator: TokenValidator):
    refused(validator, idp.mint(version=1, roles=["SignalR.Read"]), "v1.0 tokens are not accepted")


def test_a_v1_token_needs_appid_and_a_v2_token_azp(idp: DevIdentityProvider, make_validator):
    validator = make_validator(settings={"entra_accept_v1_tokens": True})
    refused(validator, idp.mint(version=1, claims_override={"appid": None}), "not an access token")
    refused(validator, idp.mint(version=1, claims_override={"azp": DEV_CLIENT_ID, "appid": None}))
    refused(validator, idp.mint(claims_override={"azp": None}), "not an access token")


def test_ver_must_agree_with_the_issuer(idp: DevIdentityProvider, make_validator):
    validator = make_validator(settings={"entra_accept_v1_tokens": True})
    refused(validator, idp.mint(claims_override={"ver": "1.0"}), "ver does not match")


def test_any_configured_audience_is_accepted(idp: DevIdentityProvider, make_validator):
    client_id = "8f7e6d5c-4b3a-4291-8807-f6e5d4c3b2a1"
    validator = make_validator(settings={"entra_audiences": (DEV_AUDIENCE, client_id)})
    assert validator.authenticate("Bearer " + idp.mint(audience=client_id, roles=["SignalR.Send"]))


def test_a_warm_token_is_served_from_the_cache(idp: DevIdentityProvider, validator: TokenValidator):
    token = idp.mint(roles=["SignalR.Send"])
    first = validator.authenticate("Bearer " + token)
    assert validator.authenticate("Bearer " + token) is first


def test_a_cache_hit_still_enforces_exp(idp: DevIdentityProvider, make_validator):
    wall = FakeClock(time.time())
    validator = make_validator(clock=wall)
    token = idp.mint(roles=["SignalR.Send"], lifetime=60)
    validator.authenticate("Bearer " + token)
    wall.advance(59)
    assert validator.authenticate("Bearer " + token).has_permission("SignalR.Send")
    wall.advance(1)  # now == exp
    refused(validator, token, "token expired")


def test_the_cache_is_bounded(idp: DevIdentityProvider, make_validator):
    settings = Settings(entra_tenant_id=DEV_TENANT_ID, entra_audiences=(DEV_AUDIENCE,),
                        entra_metadata_url=idp.metadata_url)
    validator = TokenValidator(settings, keys=make_validator().keys, cache_size=4)
    tokens = [idp.mint(user=f"user-{n}", roles=["SignalR.Send"]) for n in range(10)]
    for token in tokens:
        validator.authenticate("Bearer " + token)
    assert len(validator._cache) == 4
    # The oldest were evicted: validating one again is a miss that refills the cache, not an error.
    assert validator.authenticate("Bearer " + tokens[0]).user_id == "user-0"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"entra_tenant_id": DEV_TENANT_ID},
        {"entra_tenant_id": "contoso.onmicrosoft.com", "entra_audiences": ("a",)},
        {"entra_tenant_id": "organizations", "entra_audiences": ("a",)},
    ],
)
def test_unusable_settings_are_a_configuration_error(fields):
    with pytest.raises(ConfigurationError):
        TokenValidator(Settings(**fields))


def test_a_metadata_url_that_is_not_http_is_a_configuration_error():
    settings = Settings(entra_tenant_id=DEV_TENANT_ID, entra_audiences=("a",), entra_metadata_url="file:///etc")
    with pytest.raises(ConfigurationError) as caught:
        TokenValidator(settings)
    assert "file:" not in caught.value.detail


def test_clock_skew_is_at_most_five_minutes():
    settings = Settings(entra_tenant_id=DEV_TENANT_ID, entra_audiences=("a",))
    with pytest.raises(ValueError, match="clock_skew"):
        TokenValidator(settings, clock_skew=301)


def test_the_default_metadata_url_is_entras_v2_configuration():
    settings = Settings(entra_tenant_id=DEV_TENANT_ID, entra_audiences=("a",))
    assert TokenValidator(settings).keys.metadata_url == (
        f"https://login.microsoftonline.com/{DEV_TENANT_ID}/v2.0/.well-known/openid-configuration"
    )


def test_metadata_naming_another_tenant_is_a_configuration_error(idp: DevIdentityProvider, make_validator):
    validator = make_validator(metadata_url=idp.metadata_url_for("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"))
    with pytest.raises(ConfigurationError):
        validator.authenticate("Bearer " + idp.mint(roles=["SignalR.Send"]))
