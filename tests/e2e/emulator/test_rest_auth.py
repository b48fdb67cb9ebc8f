"""REST calls are authenticated like the real service: signature, exp and the exact aud."""

from __future__ import annotations

import time
from urllib.parse import quote

import jwt
import pytest

from devstack.emulator import EmulatorServer

from .conftest import Connect, Rest, server_token, sign

PATH = "/api/v1/hubs/chat/users/nobody"


def test_a_correct_token_is_accepted(rest: Rest) -> None:
    assert rest("GET", PATH).status_code == 404  # authenticated; the user is simply not connected


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: server_token("/api/v1/hubs/chat"), "audience"),  # another resource
        (lambda: server_token(PATH, host="127.0.0.1:8888"), "audience"),  # the port is not in aud
        (lambda: server_token(PATH, host="localhost"), "audience"),
        (lambda: server_token(PATH.upper()), "audience"),
        (lambda: server_token(PATH, key="a-different-key-that-is-long-enough-for-hs256"), "signature"),
        (lambda: server_token(PATH, lifetime=-3600), "expired"),
        (lambda: sign({"aud": f"http://127.0.0.1{PATH}"}), "expiration"),
        (lambda: "not-a-jwt", "invalid"),
    ],
    ids=["other-path", "with-port", "other-host", "wrong-case", "wrong-key", "expired", "no-exp", "garbage"],
)
def test_a_bad_token_is_401_with_the_reason(rest: Rest, token, reason: str) -> None:  # type: ignore[no-untyped-def]
    response = rest("GET", PATH, token=token())

    assert response.status_code == 401
    assert reason in response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_missing_token_is_401(rest: Rest) -> None:
    assert rest("GET", PATH, token=None).status_code == 401
    basic = rest.session.get(rest.base_url + PATH, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


def test_an_unsigned_token_is_401(rest: Rest) -> None:
    claims = {"aud": f"http://127.0.0.1{PATH}", "exp": int(time.time()) + 60}
    assert rest("GET", PATH, token=jwt.encode(claims, None, algorithm="none")).status_code == 401


def test_the_audience_excludes_the_query(rest: Rest) -> None:
    path = "/api/v1/hubs/chat/connections/c1"
    with_query = sign({"aud": f"http://127.0.0.1{path}?reason=x", "exp": int(time.time()) + 60})

    assert rest("DELETE", path, query="reason=x", token=with_query).status_code == 401
    assert rest("DELETE", path, query="reason=x").status_code == 404  # aud without the query


def test_a_trailing_slash_on_the_audience_is_tolerated(rest: Rest) -> None:
    assert rest("GET", PATH, token=sign({"aud": f"http://127.0.0.1{PATH}/", "exp": int(time.time()) + 60})
                ).status_code == 404


def test_an_encoded_name_is_one_segment_and_the_audience_is_the_encoded_path(
    connect_core: Connect, rest: Rest, emulator: EmulatorServer
) -> None:
    client = connect_core("ann")
    group = "a/../b?x=1#y"
    path = f"/api/v1/hubs/chat/groups/{quote(group, safe='')}/connections/{client.connection_id}"
    decoded_path = f"/api/v1/hubs/chat/groups/{group}/connections/{client.connection_id}"

    assert rest("PUT", path, token=server_token(decoded_path)).status_code == 401
    assert rest("PUT", path).status_code == 200
    assert emulator.state()["hubs"]["chat"]["groups"] == {group: [client.connection_id]}
    assert emulator.requests()[-1]["path"] == path  # the log keeps the raw path


def test_health_needs_no_token(rest: Rest) -> None:
    assert rest("HEAD", "/api/v1/health", token=None).status_code == 200
    assert rest("HEAD", "/api/health", token=None).status_code == 200


def test_a_token_verified_once_is_still_refused_on_another_path_and_once_expired(rest: Rest) -> None:
    token = server_token(PATH, lifetime=2)
    assert rest("GET", PATH, token=token).status_code == 404  # verified, and remembered until it expires
    assert rest("GET", "/api/v1/hubs/chat/users/someone", token=token).status_code == 401
    time.sleep(2.1)
    response = rest("GET", PATH, token=token)
    assert response.status_code == 401
    assert "expired" in response.text

