"""Tokens Microsoft.Identity.Web refuses, each refused here as InvalidToken with a short reason
that never repeats the token (the validation rules: docs/concepts/security.md, "Access tokens";
https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from devstack.idp import DEV_TENANT_ID, DevIdentityProvider
from functions.auth import TokenValidator

from .helpers import OTHER_TENANT_ID, CountingServer, b64url, refused, segments

SEND = ["SignalR.Send"]


def forge(header: dict, claims: dict, signature: str = "c2lnbmF0dXJl") -> str:
    return f"{b64url(header)}.{b64url(claims)}.{signature}"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_case(idp: DevIdentityProvider, validator: TokenValidator, alg: str):
    header, claims, _ = segments(idp.mint(roles=SEND))
    refused(validator, forge({**header, "alg": alg}, claims), "algorithm not accepted")
    refused(validator, forge({**header, "alg": alg}, claims, signature="") , "malformed token")
    assert idp.jwks_fetches == 0  # refused before any key is looked up


def test_hs256_signed_with_the_public_key(idp: DevIdentityProvider, validator: TokenValidator):
    """CVE-2022-29217: an HMAC over the token keyed with the provider's public key PEM."""
    header, claims, _ = segments(idp.mint(roles=SEND))
    public_pem = idp.signing_key().private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{b64url({**header, 'alg': 'HS256'})}.{b64url(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    refused(validator, f"{signing_input}.{b64url(mac)}", "algorithm not accepted")


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "rs256"])
def test_other_rsa_algorithms_with_the_right_key(idp: DevIdentityProvider, validator: TokenValidator, alg):
    if alg == "rs256":
        header, claims, signature = segments(idp.mint(roles=SEND))
        token = forge({**header, "alg": alg}, claims, signature)
    else:
        token = idp.mint(roles=SEND, headers={"alg": alg})
    refused(validator, token, "algorithm not accepted")


def test_a_known_kid_with_another_keys_signature(idp: DevIdentityProvider, validator: TokenValidator):
    other = idp.add_key()
    token = idp.mint(roles=SEND, key=other, headers={"kid": idp.current_kid})
    refused(validator, token, "signature verification failed")


def test_a_missing_or_empty_kid(idp: DevIdentityProvider, validator: TokenValidator):
    refused(validator, idp.mint(roles=SEND, headers={"kid": None}), "kid missing")
    refused(validator, idp.mint(roles=SEND, headers={"kid": ""}), "kid missing")
    header, claims, signature = segments(idp.mint(roles=SEND))
    refused(validator, forge({**header, "kid": 7}, claims, signature), "unsupported token header")


def test_expired(idp: DevIdentityProvider, validator: TokenValidator):
    now = int(time.time())
    token = idp.mint(roles=SEND, claims_override={"iat": now - 7200, "nbf": now - 7200, "exp": now - 60})
    refused(validator, token, "token expired")


def test_exp_exactly_now(idp: DevIdentityProvider, validator: TokenValidator):
    refused(validator, idp.mint(roles=SEND, claims_override={"exp": int(time.time())}), "token expired")


def test_exp_that_is_not_a_number(idp: DevIdentityProvider, validator: TokenValidator):
    refused(validator, idp.mint(roles=SEND, claims_override={"exp": "tomorrow"}))
    refused(validator, idp.mint(roles=SEND, claims_override={"exp": True}))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_future_nbf_or_iat_beyond_the_skew(idp: DevIdentityProvider, validator: TokenValidator, claim):
    later = int(time.time()) + 330
    token = idp.mint(roles=SEND, lifetime=7200, claims_override={claim: later})
    refused(validator, token, "not yet valid")


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_future_nbf_or_iat_within_the_skew(idp: DevIdentityProvider, validator: TokenValidator, claim):
    later = int(time.time()) + 240
    token = idp.mint(roles=SEND, lifetime=7200, claims_override={claim: later})
    assert validator.authenticate("Bearer " + token).has_permission("SignalR.Send")


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "tid", "sub"])
def test_each_required_claim_missing(idp: DevIdentityProvider, validator: TokenValidator, claim: str):
    refused(validator, idp.mint(roles=SEND, claims_override={claim: None}), f"missing claim {claim}")


@pytest.mark.parametrize(
    "audience",
    ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000", "api://another-api",
     "api://signalr-facade-dev/", "API://SIGNALR-FACADE-DEV"],
)
def test_wrong_audience(idp: DevIdentityProvider, validator: TokenValidator, audience: str):
    refused(validator, idp.mint(roles=SEND, audience=audience), "audience not accepted")


def test_an_audience_list_is_refused(idp: DevIdentityProvider, validator: TokenValidator):
    """Entra puts one audience in an access token; an array is not what it issues."""
    refused(validator, idp.mint(roles=SEND, claims_override={"aud": [idp.audience]}), "audience not accepted")


def test_wrong_issuer(idp: DevIdentityProvider, validator: TokenValidator):
    for iss in (
        f"https://login.microsoftonline.com/{DEV_TENANT_ID}/v2.0",  # Entra itself, not this provider
        f"{idp.base_url}/{OTHER_TENANT_ID}/v2.0",
        "https://evil.example/v2.0",
    ):
        refused(validator, idp.mint(roles=SEND, claims_override={"iss": iss}), "issuer not accepted")
    # PyJWT will not encode a non-string iss; sign the raw claims instead.
    _, claims, _ = segments(idp.mint(roles=SEND))
    payload = json.dumps({**claims, "iss": 42}).encode()
    token = jwt.PyJWS().encode(payload, idp.signing_key().private_key, "RS256", {"kid": idp.current_kid})
    refused(validator, token, "iss is not a string")


@pytest.mark.parametrize("shape", ["prefix", "suffix", "slash", "prepended", "upper"])
def test_an_issuer_that_only_resembles_the_right_one(
    idp: DevIdentityProvider, validator: TokenValidator, shape: str
):
    """GHSA-75c5-xw7c-p5pm: issuers are compared exactly, never by prefix or containment."""
    right = idp.issuer
    iss = {
        "prefix": right[:-1],
        "suffix": right + "x",
        "slash": right + "/",
        "prepended": "x" + right,
        "upper": right.upper(),
    }[shape]
    refused(validator, idp.mint(roles=SEND, claims_override={"iss": iss}), "issuer not accepted")


def test_tid_not_a_guid(idp: DevIdentityProvider, validator: TokenValidator):
    refused(validator, idp.mint(roles=SEND, claims_override={"tid": "contoso"}), "tid is not a tenant id")


def test_tid_of_another_tenant_in_single_tenant_mode(idp: DevIdentityProvider, validator: TokenValidator):
    refused(validator, idp.mint(roles=SEND, tenant=OTHER_TENANT_ID), "tenant not accepted")
    token = idp.mint(roles=SEND, claims_override={"tid": OTHER_TENANT_ID})
    refused(validator, token, "tenant not accepted")


def test_unknown_jku_x5u_and_jwk_headers_are_never_fetched(
    idp: DevIdentityProvider, validator: TokenValidator, counting_server: CountingServer
):
    attacker = idp.add_key(publish=False)
    attacker_jwk = RSAAlgorithm.to_jwk(idp.signing_key(attacker).private_key.public_key(), as_dict=True)
    headers = {"jku": counting_server.url + "/keys", "x5u": counting_server.url + "/cert",
               "jwk": {**attacker_jwk, "kid": attacker}}
    refused(validator, idp.mint(roles=SEND, key=attacker, headers=headers), "signing key not found")
    # The same headers on a properly signed token are simply ignored.
    assert validator.authenticate("Bearer " + idp.mint(roles=SEND, headers=headers))
    assert counting_server.hits == 0


@pytest.mark.parametrize("crit", [["urn:example:custom"], ["exp"], ["b64"], "b64", []])
def test_crit_headers_are_refused(idp: DevIdentityProvider, validator: TokenValidator, crit):
    header, claims, signature = segments(idp.mint(roles=SEND))
    token = forge({**header, "crit": crit, "urn:example:custom": 1, "b64": True, "exp": 1}, claims, signature)
    detail = refused(validator, token).detail
    assert "crit" in detail or "header" in detail


@pytest.mark.parametrize(
    "token",
    ["abc", "a.b", "a.b.c.d", "a..c", "a.b.", ".b.c", "!!!.b.c", "a.b%.c", "a.b.c=", "a b.c.d", "é.b.c"],
)
def test_malformed_tokens(validator: TokenValidator, idp: DevIdentityProvider, token: str):
    refused(validator, token, "malformed token")
    assert idp.jwks_fetches == 0


def test_a_header_that_is_not_json(idp: DevIdentityProvider, validator: TokenValidator):
    _, claims, signature = segments(idp.mint(roles=SEND))
    refused(validator, f"{b64url(b'not json')}.{b64url(claims)}.{signature}", "malformed token")
    refused(validator, f"{b64url(b'[1,2]')}.{b64url(claims)}.{signature}", "malformed token")


def test_an_oversized_token_is_refused_unread(idp: DevIdentityProvider, validator: TokenValidator):
    token = idp.mint(roles=SEND, claims_override={"padding": "x" * 16_500})
    refused(validator, token, "token too large")
    assert idp.jwks_fetches == 0


def test_a_stripped_signature(idp: DevIdentityProvider, validator: TokenValidator):
    token = idp.mint(roles=SEND)
    unsigned = token.rsplit(".", 1)[0]
    refused(validator, unsigned + ".", "malformed token")
    refused(validator, unsigned, "malformed token")


def test_a_modified_payload(idp: DevIdentityProvider, validator: TokenValidator):
    header, claims, signature = segments(idp.mint(roles=SEND))
    claims["roles"] = [*SEND, "SignalR.Connections.Manage"]
    refused(validator, forge(header, claims, signature), "signature verification failed")


def test_an_id_token_sent_as_an_access_token(idp: DevIdentityProvider, validator: TokenValidator):
    """ID tokens carry nonce/at_hash and no azp; the API's own client id may be their aud."""
    id_token_shape = {"nonce": "n-0S6_WzA2Mj", "azp": None, "idtyp": None, "azpacr": None,
                      "preferred_username": "user@contoso.example"}
    refused(validator, idp.mint(roles=SEND, claims_override=id_token_shape), "not an access token")
    refused(validator, idp.mint(roles=SEND, claims_override={"at_hash": "x"}), "not an access token")
    refused(validator, idp.mint(roles=SEND, claims_override={"nonce": "n"}), "not an access token")


def test_malformed_permission_claims(idp: DevIdentityProvider, validator: TokenValidator):
    refused(validator, idp.mint(claims_override={"roles": "SignalR.Send"}), "malformed claims")
    refused(validator, idp.mint(claims_override={"scp": ["SignalR.Send"]}), "malformed claims")
