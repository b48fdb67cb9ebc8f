"""Inputs are validated like the service: 400 text/plain, 413 over 1 MB, unknown routes 404."""

from __future__ import annotations

import jwt
import pytest

from clients.signalrcore_client import SignalRCoreClient
from devstack.emulator import DEV_ACCESS_KEY

from .conftest import Connect, Rest, server_token

HUB = "/api/v1/hubs/chat"


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("POST", "/api/v1/hubs/1chat", ""),
        ("POST", "/api/v1/hubs/chat-room", ""),
        ("GET", f"{HUB}/groups/{'g' * 1025}", ""),
        ("GET", f"{HUB}/groups/%20%20", ""),
        ("PUT", f"{HUB}/groups/g/users/u", "ttl=soon"),
        ("PUT", f"{HUB}/groups/g/users/u", "ttl=-1"),
        ("PUT", f"{HUB}/groups/g/users/u", "ttl=2147483648"),
    ],
    ids=["hub-digit", "hub-dash", "group-too-long", "group-blank", "ttl-text", "ttl-negative", "ttl-overflow"],
)
def test_invalid_input_is_400_text(rest: Rest, method: str, path: str, query: str) -> None:
    response = rest(method, path, query=query, body={"Target": "t"} if method == "POST" else None)

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")


def test_a_1024_character_group_is_fine(rest: Rest) -> None:
    assert rest("GET", f"{HUB}/groups/{'g' * 1024}").status_code == 404


@pytest.mark.parametrize("body", [b"", b"not json", b"[1]", b'{"Arguments": [1]}', b'{"Target": "t", "Arguments": 1}'])
def test_a_send_without_a_proper_message_is_400(rest: Rest, body: bytes) -> None:
    response = rest.session.post(rest.base_url + HUB, data=body, headers={
        "Authorization": f"Bearer {server_token(HUB)}", "Content-Type": "application/json"})
    assert response.status_code == 400


def test_a_body_over_1_mb_is_413(rest: Rest) -> None:
    assert rest.send(HUB, "big", "x" * (1024 * 1024)).status_code == 413


def test_unknown_routes_are_404_and_wrong_methods_405(rest: Rest) -> None:
    assert rest("GET", "/api/v1/nothing/here").status_code == 404
    assert rest("PATCH", f"{HUB}/groups/g").status_code == 405


def test_hub_names_are_case_insensitive(connect_core: Connect, rest: Rest) -> None:
    client = connect_core("ann", hub="chat")

    assert rest.send("/api/v1/hubs/CHAT", "loud", 1).status_code == 202

    assert client.events.wait_messages(1)[0]["target"] == "loud"


def test_the_dated_api_needs_an_api_version(connect_core: Connect, rest: Rest) -> None:
    client = connect_core("ann")
    path = "/api/hubs/chat/:send"

    assert rest("POST", path, body={"target": "t"}).status_code == 400
    assert rest("POST", path, query="api-version=2022-06-01", body={"target": "dated", "arguments": [2]}
                ).status_code == 202
    assert client.events.wait_messages(1)[0]["arguments"] == [2]
    assert rest("HEAD", f"/api/hubs/chat/connections/{client.connection_id}",
                query="api-version=2022-06-01").status_code == 200
    assert rest("PUT", "/api/hubs/chat/users/ann/groups/g", query="api-version=2022-06-01").status_code == 200
    assert rest("DELETE", "/api/hubs/chat/users/ann/groups", query="api-version=2022-06-01").status_code == 204


def test_generate_token_mints_a_client_token_the_service_accepts(rest: Rest) -> None:
    path = "/api/hubs/Chat/:generateToken"
    response = rest("POST", path, query="userId=ann&minutesToExpire=5&api-version=2023-07-01")

    assert response.status_code == 200
    token = response.json()["token"]
    claims = jwt.decode(token, DEV_ACCESS_KEY, algorithms=["HS256"], audience="http://127.0.0.1/client/?hub=chat")
    assert claims["nameid"] == "ann"
    assert 290 <= claims["exp"] - claims["iat"] <= 300
    with SignalRCoreClient(f"{rest.base_url}/client/?hub=chat", token) as client:
        assert client.connection_id
        assert rest("GET", f"{HUB}/users/ann").status_code == 200
    assert rest("POST", path, query="minutesToExpire=0&api-version=2023-07-01").status_code == 400
