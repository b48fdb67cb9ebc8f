"""Negotiate and the WebSocket transport, spoken to directly (aiohttp) and through a redirect."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from clients.node_client import NodeClient, node_available
from clients.signalrcore_client import SignalRCoreClient
from devstack.emulator import DEV_ACCESS_KEY, EmulatorServer, Timings

from .conftest import Rest, client_token, sign

RS = "\x1e"
HANDSHAKE = json.dumps({"protocol": "json", "version": 1}) + RS


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


async def _negotiate(session: aiohttp.ClientSession, base: str, token: str, version: int | None = 1) -> Any:
    query = "hub=chat" + (f"&negotiateVersion={version}" if version is not None else "")
    async with session.post(f"{base}/client/negotiate?{query}", headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json() if r.status == 200 else await r.text()


def test_negotiate_answers_version_1_with_a_separate_token_and_version_0_without(emulator: EmulatorServer) -> None:
    async def scenario() -> tuple[Any, Any]:
        async with aiohttp.ClientSession() as session:
            return (await _negotiate(session, emulator.base_url, client_token()),
                    await _negotiate(session, emulator.base_url, client_token(), version=None))

    (s1, v1), (s0, v0) = run(scenario())

    assert s1 == s0 == 200
    assert v1["negotiateVersion"] == 1
    assert v1["connectionToken"] != v1["connectionId"]
    assert v1["availableTransports"] == [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}]
    assert v0["negotiateVersion"] == 0
    assert "connectionToken" not in v0


@pytest.mark.parametrize(
    "token",
    [
        lambda: sign({"aud": "http://127.0.0.1:8888/client/?hub=chat", "exp": 9999999999}),
        lambda: sign({"aud": "http://127.0.0.1/client/?hub=other", "exp": 9999999999}),
        lambda: client_token(lifetime=-60),
        lambda: "",
    ],
    ids=["aud-with-port", "aud-other-hub", "expired", "missing"],
)
def test_negotiate_rejects_a_bad_client_token(emulator: EmulatorServer, token) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> Any:
        async with aiohttp.ClientSession() as session:
            return await _negotiate(session, emulator.base_url, token())

    status, _ = run(scenario())
    assert status == 401


def test_unknown_ids_are_404_and_a_second_socket_is_409(emulator: EmulatorServer) -> None:
    token = client_token()

    async def scenario() -> tuple[int, int]:
        async with aiohttp.ClientSession() as session:
            _, body = await _negotiate(session, emulator.base_url, token)
            url = f"{emulator.base_url}/client/?hub=chat&access_token={token}&id="
            with pytest.raises(aiohttp.WSServerHandshakeError) as unknown:
                await session.ws_connect(url + "nope")
            first = await session.ws_connect(url + body["connectionToken"])
            with pytest.raises(aiohttp.WSServerHandshakeError) as second:
                await session.ws_connect(url + body["connectionToken"])
            await first.close()
            return unknown.value.status, second.value.status

    assert run(scenario()) == (404, 409)


def test_the_handshake_refuses_other_protocols_and_pings_keep_the_connection_alive(
    emulator: EmulatorServer,
) -> None:
    token = client_token()

    async def scenario() -> tuple[str, list[str]]:
        async with aiohttp.ClientSession() as session:
            url = f"{emulator.base_url}/client/?hub=chat&access_token={token}"
            refused = await session.ws_connect(url)
            await refused.send_str(json.dumps({"protocol": "blazorpack", "version": 1}) + RS)
            error = (await refused.receive()).data
            await refused.close()

            ws = await session.ws_connect(url)
            await ws.send_str(HANDSHAKE + json.dumps({"type": 6}) + RS)  # records may share a frame
            frames = [(await ws.receive(timeout=5)).data for _ in range(3)]  # {} then pings (0.5 s)
            await ws.close()
            return error, frames

    error, frames = run(scenario())
    assert json.loads(error.rstrip(RS)) == {"error": "The protocol 'blazorpack' is not supported."}
    assert frames == ["{}" + RS, '{"type":6}' + RS, '{"type":6}' + RS]


def test_a_silent_client_times_out() -> None:
    with EmulatorServer(timings=Timings(keep_alive=0.2, client_timeout=0.6)) as server:
        async def scenario() -> list[Any]:
            async with aiohttp.ClientSession() as session:
                ws = await session.ws_connect(f"{server.base_url}/client/?hub=chat&access_token={client_token()}")
                await ws.send_str(HANDSHAKE)
                frames = []
                async for message in ws:  # ends when the server closes
                    frames.append(message.data)
                return frames

        frames = run(scenario())
    assert json.loads(frames[-1].rstrip(RS))["type"] == 7


def test_the_request_log_keeps_raw_paths_and_hides_tokens(emulator: EmulatorServer, rest: Rest) -> None:
    with SignalRCoreClient(f"{emulator.base_url}/client/?hub=chat", client_token()):
        pass
    rest("GET", "/api/v1/hubs/chat/groups/a%2Fb")

    log = emulator.requests()
    assert [(r["method"], r["path"]) for r in log] == [
        ("POST", "/client/negotiate"), ("GET", "/client/"), ("GET", "/api/v1/hubs/chat/groups/a%2Fb")]
    assert log[-1]["status"] == 404
    assert all("eyJ" not in r["query"] for r in log)


def test_cors_preflight_on_negotiate(emulator: EmulatorServer, rest: Rest) -> None:
    response = rest.session.options(
        f"{emulator.base_url}/client/negotiate?hub=chat",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,x-requested-with"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


# Through a negotiate redirect, as the facade answers ---------------------------------------


@pytest.fixture
def redirecting_negotiate(emulator: EmulatorServer) -> Iterator[str]:
    """A stand-in app server whose negotiate answers {url, accessToken} like the facade's."""

    async def negotiate(request: web.Request) -> web.Response:
        return web.json_response({"url": f"{emulator.base_url}/client/?hub=chat",
                                  "accessToken": client_token("redirected")})

    app = web.Application()
    app.router.add_post("/api/negotiate", negotiate)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/api"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.run_until_complete(runner.cleanup())
    loop.close()


@pytest.mark.stack
@pytest.mark.skipif(not node_available(), reason="node and node_modules/@microsoft/signalr are needed")
def test_the_js_client_follows_a_negotiate_redirect(redirecting_negotiate: str, rest: Rest) -> None:
    with NodeClient(redirecting_negotiate, "app-token") as client:
        assert rest("GET", f"/api/v1/hubs/chat/connections/{client.connection_id}").status_code == 200
        assert rest.send("/api/v1/hubs/chat/users/redirected", "hi", 1).status_code == 202
        assert client.events.wait_messages(1)[0]["arguments"] == [1]


def test_signalrcore_follows_a_negotiate_redirect_without_a_second_negotiate(
    redirecting_negotiate: str, rest: Rest, emulator: EmulatorServer
) -> None:
    with SignalRCoreClient(redirecting_negotiate, "app-token") as client:
        assert client.connection_id is None  # it connects straight to the WebSocket
        assert rest("GET", "/api/v1/hubs/chat/users/redirected").status_code == 200
        assert rest.send("/api/v1/hubs/chat/users/redirected", "hi", 2).status_code == 202
        assert client.events.wait_messages(1)[0]["arguments"] == [2]
    assert DEV_ACCESS_KEY not in json.dumps(emulator.requests())
