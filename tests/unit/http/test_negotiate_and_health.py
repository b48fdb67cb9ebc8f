from __future__ import annotations

import json

import azure.functions as func
import jwt
import pytest

from devstack.constants import DEV_ACCESS_KEY as KEY
from support.recording_upstream import Answer


def request(method: str, url: str, route_params: dict | None = None, token: str | None = None) -> func.HttpRequest:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return func.HttpRequest(method, url, headers=headers, params={}, route_params=route_params or {}, body=b"")


CONNECT = ["SignalR.Connect"]


@pytest.fixture
def negotiate(registered_functions, secured_env):
    function = registered_functions["negotiate"].get_user_function()
    return lambda hub, token: function(request(
        "POST", f"http://127.0.0.1:7071/api/v1/hubs/{hub}/negotiate?negotiateVersion=1", {"hub": hub}, token))


def test_negotiate_gives_the_caller_a_client_token_for_itself(negotiate, identity_provider, upstream):
    response = negotiate("Chat", identity_provider.mint(roles=CONNECT, user="00000000-0000-0000-0000-00000000abcd"))
    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert body["url"] == f"http://127.0.0.1:{upstream.port}/client/?hub=chat"
    claims = jwt.decode(body["accessToken"], KEY, algorithms=["HS256"], audience="http://127.0.0.1/client/?hub=chat")
    assert claims["nameid"] == "00000000-0000-0000-0000-00000000abcd"
    assert claims["exp"] - claims["iat"] <= 15 * 60
    assert upstream.requests == []  # signed locally with an access key


def test_the_client_token_audience_comes_from_endpoint_not_client_endpoint(negotiate, identity_provider, upstream,
                                                                          secured_env):
    """aud = Endpoint's scheme://host (no port) + /client/?hub=, whatever ClientEndpoint says (the SDK's
    AudienceBaseUrl, Azure/azure-signalr src/Microsoft.Azure.SignalR.Common/Endpoints/ServiceEndpoint.cs)."""
    from functions.core.facade import reset_facade

    secured_env.setenv("AzureSignalRConnectionString",
                       f"Endpoint=https://demo.service.signalr.net:8443;AccessKey={KEY};Version=1.0;"
                       f"ClientEndpoint=https://clients.example.com;ServerEndpoint=http://127.0.0.1:{upstream.port}")
    reset_facade()
    body = json.loads(negotiate("Chat", identity_provider.mint(roles=CONNECT)).get_body())
    assert body["url"] == "https://clients.example.com/client/?hub=chat"
    jwt.decode(body["accessToken"], KEY, algorithms=["HS256"],
               audience="https://demo.service.signalr.net/client/?hub=chat")


def test_negotiate_needs_a_valid_token_carrying_the_connect_permission(negotiate, identity_provider):
    assert negotiate("chat", None).status_code == 401
    assert negotiate("chat", identity_provider.mint(roles=CONNECT, lifetime=-900)).status_code == 401
    # An app-only token with no role: Entra issues one to any service principal of the tenant.
    refused = negotiate("chat", identity_provider.mint(roles=[]))
    assert refused.status_code == 403
    assert "SignalR.Connect" in json.loads(refused.get_body())["detail"]
    assert negotiate("chat", identity_provider.mint(roles=["SignalR.Send", "SignalR.Read"])).status_code == 403
    assert negotiate("chat", identity_provider.mint(roles=CONNECT)).status_code == 200
    assert negotiate("chat", identity_provider.mint(scopes=CONNECT)).status_code == 200


def test_negotiate_validates_and_restricts_the_hub(negotiate, identity_provider, secured_env):
    from functions.core.facade import reset_facade

    assert negotiate("9bad", identity_provider.mint(roles=CONNECT)).status_code == 400
    secured_env.setenv("SIGNALR_ALLOWED_HUBS", "chat")
    reset_facade()
    assert negotiate("other", identity_provider.mint(roles=CONNECT)).status_code == 403


def test_negotiate_with_entra_upstream_asks_the_service_for_the_token(negotiate, identity_provider, upstream,
                                                                     secured_env):
    from functions.core.facade import get_facade, reset_facade

    secured_env.setenv("AzureSignalRConnectionString",
                       f"Endpoint=http://127.0.0.1;Port={upstream.port};AuthType=azure.msi;Version=1.0;")
    reset_facade()

    class FixedEntraToken:  # azure-identity cannot reach Entra here: the one double, for the credential only
        def bearer(self, url: str) -> str:
            return "entra-token"

    get_facade().client.credential = FixedEntraToken()
    upstream.answer(Answer(200, {"Content-Type": "application/json"}, b'{"token": "service-minted"}'))
    response = negotiate("chat", identity_provider.mint(roles=CONNECT, user="11111111-2222-3333-4444-555555555555"))
    assert json.loads(response.get_body())["accessToken"] == "service-minted"
    (call,) = upstream.requests
    assert call.method == "POST"
    assert call.path == "/api/hubs/chat/:generateToken"
    assert ("userId", "11111111-2222-3333-4444-555555555555") in call.query
    assert ("api-version", "2024-12-01") in call.query
    assert call.bearer == "entra-token"


def test_negotiate_with_entra_upstream_mints_for_the_hub_the_url_names(negotiate, identity_provider, upstream,
                                                                      secured_env):
    """:generateToken takes no `application` (2024-12-01 swagger): the prefixed hub carries it."""
    from functions.core.facade import get_facade, reset_facade

    secured_env.setenv("AzureSignalRConnectionString",
                       f"Endpoint=http://127.0.0.1;Port={upstream.port};AuthType=azure.msi;Version=1.0;")
    secured_env.setenv("SIGNALR_APPLICATION", "Shop")
    reset_facade()

    class FixedEntraToken:  # azure-identity cannot reach Entra here: the one double, for the credential only
        def bearer(self, url: str) -> str:
            return "entra-token"

    get_facade().client.credential = FixedEntraToken()
    upstream.answer(Answer(200, {"Content-Type": "application/json"}, b'{"token": "service-minted"}'))
    response = negotiate("Chat", identity_provider.mint(roles=CONNECT))
    assert json.loads(response.get_body())["url"].endswith("/client/?hub=shop_chat")
    (call,) = upstream.requests
    assert call.path == "/api/hubs/shop_chat/:generateToken"
    assert "application" not in dict(call.query)


@pytest.fixture
def health(registered_functions):
    function = registered_functions["health"].get_user_function()

    def run():
        response = function(request("GET", "http://127.0.0.1:7071/api/health"))
        return response.status_code, json.loads(response.get_body())

    return run


def test_health_is_healthy_when_settings_and_upstream_are(health, secured_env, upstream):
    status, body = health()
    assert (status, body["status"]) == (200, "healthy")
    assert upstream.requests[-1].method == "HEAD"
    assert upstream.requests[-1].path == "/api/v1/health"


def test_health_reports_bad_settings_by_name_without_values_in_the_log_only(health, facade_env, caplog):
    facade_env.setenv("AzureSignalRConnectionString", "Endpoint=https://x;AccessKey=topsecret;Port=99999")
    from functions.core.facade import reset_facade

    reset_facade()
    with caplog.at_level("WARNING"):
        status, body = health()
    assert status == 503
    assert body == {"status": "unhealthy",
                    "checks": {"settings": {"status": "error"}, "upstream": {"status": "skipped"}}}
    assert "ENTRA_TENANT_ID" in caplog.text
    assert "Port" in caplog.text
    assert "topsecret" not in caplog.text


def test_health_reports_an_unreachable_upstream(health, secured_env, upstream):
    upstream.default = Answer(503, {"Retry-After": "60"})
    status, body = health()
    assert status == 503
    assert body["checks"]["upstream"]["status"] == "error"
