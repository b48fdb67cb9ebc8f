"""Token refusals that name the fix (never echoing the token), and one rate-limited WARNING per refusal
with what the token claimed (issue 26, item 5)."""

from __future__ import annotations

import logging
import time

import jwt
import pytest

from devstack.idp import DEV_AUDIENCE, DEV_CLIENT_ID, DEV_TENANT_ID, DEV_USER_ID, DevIdentityProvider
from functions.auth import TokenValidator
from functions.auth.refusals import RefusalLog
from functions.core.errors import InvalidToken, MissingToken
from support.http_calls import problem

from .helpers import FakeClock, assert_no_token_in, refused

SEND = ["SignalR.Send"]


def signalr_client_token() -> str:
    """What negotiate hands a client: HS256 with the access key, audience <endpoint>/client/?hub=<hub>."""
    now = int(time.time())
    return jwt.encode({"aud": "http://127.0.0.1:8888/client/?hub=chat", "iat": now, "exp": now + 60,
                       "nameid": "u1"}, "an-access-key-of-at-least-32-bytes!!", algorithm="HS256")


def test_no_authorization_header_says_what_to_send(validator: TokenValidator):
    with pytest.raises(MissingToken) as caught:
        validator.authenticate(None)
    assert "Authorization: Bearer <token>" in caught.value.detail


@pytest.mark.parametrize("scheme", ["", "Basic ", "JWT ", "Token "])
def test_a_token_without_the_bearer_scheme_names_the_scheme_and_is_not_echoed(
        idp: DevIdentityProvider, validator: TokenValidator, scheme: str):
    token = idp.mint(roles=SEND)
    with pytest.raises(MissingToken) as caught:
        validator.authenticate(f"{scheme}{token}")
    assert "'Bearer <token>'" in caught.value.detail
    assert_no_token_in(caught.value, token)


def test_a_signalr_client_token_is_named_as_one(validator: TokenValidator):
    token = signalr_client_token()
    error = refused(validator, token, "algorithm not accepted")
    assert "SignalR client token" in error.detail
    assert "not an Entra access token for this API" in error.detail


def test_another_hs256_token_asks_for_an_entra_access_token(validator: TokenValidator):
    token = jwt.encode({"aud": DEV_AUDIENCE, "exp": int(time.time()) + 60}, "k" * 32, algorithm="HS256")
    error = refused(validator, token, "algorithm not accepted")
    assert "Entra ID access token" in error.detail
    assert "SignalR client token" not in error.detail


def test_a_wrong_audience_names_the_audience_received_and_those_accepted(idp, validator: TokenValidator):
    token = idp.mint(roles=SEND, audience="https://management.azure.com")
    error = refused(validator, token, "audience not accepted")
    assert "'https://management.azure.com'" in error.detail
    assert f"'{DEV_AUDIENCE}'" in error.detail


def test_a_forged_audience_cannot_break_the_challenge_header(idp, validator: TokenValidator):
    token = idp.mint(roles=SEND, audience='x"\r\nSet-Cookie: a=b\\')
    error = refused(validator, token, "audience not accepted")
    challenge = error.headers()["WWW-Authenticate"]
    assert "\r" not in challenge
    assert "\n" not in challenge
    assert challenge.count('"') == 4  # error="invalid_token", error_description="..."


def test_the_http_answer_carries_the_fix(call, identity_provider: DevIdentityProvider):
    token = identity_provider.mint(roles=SEND)
    response = call("broadcast", "POST", {"hub": "chat"}, body={"target": "t", "arguments": []},
                    headers={"Authorization": token})
    assert response.status_code == 401
    assert "'Bearer <token>'" in problem(response)["detail"]
    assert token not in response.get_body().decode()


def test_each_refusal_is_logged_at_warning_with_the_claims_never_the_token(
        idp, validator: TokenValidator, caplog: pytest.LogCaptureFixture):
    token = idp.mint(roles=SEND, audience="api://someone-else")
    with caplog.at_level(logging.WARNING, logger="functions.auth"):
        with pytest.raises(InvalidToken):
            validator.authenticate(f"Bearer {token}")
    (record,) = [r for r in caplog.records if r.name == "functions.auth"]
    line = record.getMessage()
    assert record.levelno == logging.WARNING
    assert "reason='audience not accepted" in line
    for claim, value in (("aud", "api://someone-else"), ("iss", idp.issuer), ("tid", DEV_TENANT_ID),
                         ("azp", DEV_CLIENT_ID), ("oid", DEV_USER_ID)):
        assert f"{claim}='{value}'" in line
    for part in token.split("."):
        assert part not in line


def test_a_forged_claim_cannot_forge_a_log_line(validator: TokenValidator, caplog: pytest.LogCaptureFixture):
    token = jwt.encode({"aud": "x\nWARNING token accepted", "exp": 1}, "k" * 32, algorithm="HS256")
    with caplog.at_level(logging.WARNING, logger="functions.auth"):
        with pytest.raises(InvalidToken):
            validator.authenticate(f"Bearer {token}")
    assert all("\n" not in r.getMessage() for r in caplog.records)


def test_a_missing_token_is_logged_too(validator: TokenValidator, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="functions.auth"):
        with pytest.raises(MissingToken):
            validator.authenticate("Basic dXNlcjpwYXNz")
    (record,) = [r for r in caplog.records if r.name == "functions.auth"]
    assert "claims=none" in record.getMessage()
    assert "dXNlcjpwYXNz" not in record.getMessage()


def test_a_flood_of_refusals_cannot_fill_the_log(validator: TokenValidator, caplog: pytest.LogCaptureFixture):
    clock = FakeClock(0.0)
    validator.refusals = RefusalLog(burst=5, window=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger="functions.auth"):
        for _ in range(1000):
            with pytest.raises(MissingToken):
                validator.authenticate(None)
        assert len(caplog.records) == 5
        clock.advance(61)
        with pytest.raises(MissingToken):
            validator.authenticate(None)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 7
    assert "995 in the last 60 s" in lines[5]
    assert lines[6].startswith("token refused")
