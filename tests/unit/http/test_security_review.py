"""The security review's findings (negotiate, health, tenants, scopes, logs, caches, settings), each pinned."""

from __future__ import annotations

import json
import logging
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
import jwt
import pytest

from devstack.constants import DEV_ACCESS_KEY as KEY
from functions.signalr.credentials import AccessKeyCredential
from support.bindings import OutCapture, one, queue_message
from support.recording_upstream import Answer

TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"
CLIENT_APP = "11111111-aaaa-4bbb-8ccc-000000000001"
BODY = json.dumps({"target": "t", "arguments": []}).encode()


def http_call(registered_functions, name: str, method: str, route: str, params: dict, token: str,
              body: bytes = b"") -> func.HttpResponse:
    headers = {"Authorization": f"Bearer {token}"}
    if body:
        headers["Content-Type"] = "application/json"
    request = func.HttpRequest(method, f"http://127.0.0.1:7071/api/{route}", headers=headers, params={},
                               route_params=params, body=body)
    return registered_functions[name].get_user_function()(request)


@pytest.fixture
def close_connection(registered_functions, secured_env):
    return lambda token: http_call(registered_functions, "closeConnection", "DELETE",
                                   "v1/hubs/chat/connections/c1", {"hub": "chat", "connectionId": "c1"}, token)


@pytest.fixture
def send_to_user(registered_functions, secured_env):
    return lambda token, user="u1": http_call(registered_functions, "sendToUser", "POST",
                                              f"v1/hubs/chat/users/{user}", {"hub": "chat", "user": user}, token,
                                              BODY)


@pytest.fixture
def negotiate(registered_functions, secured_env):
    return lambda token: http_call(registered_functions, "negotiate", "POST", "v1/hubs/chat/negotiate",
                                   {"hub": "chat"}, token)


@pytest.fixture
def execute(registered_functions, facade_env):
    function = registered_functions["executeCommand"].get_user_function()

    def run(message: dict | str):
        deadletter = OutCapture()
        function(queue_message(message if isinstance(message, str) else json.dumps(message)), deadletter,
                 OutCapture(), OutCapture())
        return json.loads(one(deadletter.value)) if deadletter.value else None

    return run


# -- 4. delegated tokens hold their scopes, not the user's roles ------------------------------------------


def test_a_delegated_token_is_held_to_its_scopes_whatever_roles_the_user_has(close_connection, identity_provider,
                                                                            upstream):
    upstream.answer(Answer(202))
    read_only_client = identity_provider.mint(scopes=["SignalR.Read"], roles=["SignalR.Connections.Manage"])
    assert close_connection(read_only_client).status_code == 403
    assert close_connection(identity_provider.mint(scopes=["SignalR.Connections.Manage"])).status_code == 202
    assert len(upstream.requests) == 1


def test_an_app_only_token_is_held_to_its_app_roles(close_connection, identity_provider, upstream):
    upstream.answer(Answer(202))
    assert close_connection(identity_provider.mint(roles=["SignalR.Connections.Manage"])).status_code == 202
    assert close_connection(identity_provider.mint(roles=["SignalR.Read"])).status_code == 403


def test_the_client_app_allow_list_refuses_other_applications(close_connection, identity_provider, upstream,
                                                              secured_env):
    from functions.core.facade import reset_facade

    secured_env.setenv("ENTRA_ALLOWED_CLIENT_APPS", CLIENT_APP)
    reset_facade()
    upstream.answer(Answer(202))
    roles = ["SignalR.Connections.Manage"]
    assert close_connection(identity_provider.mint(roles=roles)).status_code == 403
    allowed = identity_provider.mint(roles=roles, claims_override={"azp": CLIENT_APP.upper()})
    assert close_connection(allowed).status_code == 202
    assert len(upstream.requests) == 1


# -- 3. multi-tenant: each tenant reaches only its own namespace ----------------------------------------


@pytest.fixture
def multi_tenant(secured_env, identity_provider):
    from functions.core.facade import reset_facade

    secured_env.setenv("ENTRA_TENANT_ID", "organizations")
    secured_env.setenv("ENTRA_ALLOWED_TENANTS", f"{identity_provider.tenant_id},{TENANT_B}")
    secured_env.setenv("ENTRA_METADATA_URL", identity_provider.metadata_url_for("organizations"))
    reset_facade()
    return secured_env


def namespace(tid: str) -> str:
    return "t" + tid.replace("-", "")


def test_multi_tenant_sends_reach_only_the_callers_tenant(multi_tenant, send_to_user, identity_provider, upstream):
    upstream.answer(Answer(202), Answer(202))
    assert send_to_user(identity_provider.mint(roles=["SignalR.Send"])).status_code == 202
    assert send_to_user(identity_provider.mint(roles=["SignalR.Send"], tenant=TENANT_B)).status_code == 202
    first, second = upstream.requests
    # v1 defines no `application`: the SDK's v1 rule puts lower(app)_lower(hub) in the path.
    assert first.path == f"/api/v1/hubs/{namespace(identity_provider.tenant_id)}_chat/users/u1"
    assert second.path == f"/api/v1/hubs/{namespace(TENANT_B)}_chat/users/u1"
    assert first.query == second.query == []


def test_multi_tenant_negotiate_puts_the_client_in_its_tenants_hub(multi_tenant, negotiate, identity_provider,
                                                                   upstream):
    response = negotiate(identity_provider.mint(roles=["SignalR.Connect"], tenant=TENANT_B, user="oid-b"))
    assert response.status_code == 200
    answer = json.loads(response.get_body())
    hub = dict(parse_qsl(urlsplit(answer["url"]).query))["hub"]
    assert hub == f"{namespace(TENANT_B)}_chat"
    claims = jwt.decode(answer["accessToken"], KEY, algorithms=["HS256"],
                        audience=f"http://127.0.0.1/client/?hub={hub}")
    assert claims["nameid"] == "oid-b"


def test_multi_tenant_queue_commands_must_name_an_allowed_tenant(multi_tenant, execute, upstream):
    message = {"operation": "sendToUser", "hub": "chat", "user": "u1", "payload": {"target": "t", "arguments": []}}
    assert "tenant" in execute(message)["reason"]
    assert "not allowed" in execute({**message, "tenant": "cccccccc-0000-4000-8000-00000000000c"})["reason"]
    assert execute({**message, "tenant": TENANT_B.upper()}) is None
    (request,) = upstream.requests
    assert request.path == f"/api/v1/hubs/{namespace(TENANT_B)}_chat/users/u1"


def test_single_tenant_queue_commands_may_name_only_the_facades_tenant(secured_env, execute, identity_provider,
                                                                       upstream):
    message = {"operation": "broadcast", "hub": "chat", "payload": {"target": "t", "arguments": []}}
    assert execute({**message, "tenant": TENANT_B}) is not None
    assert execute({**message, "tenant": identity_provider.tenant_id}) is None
    assert all(namespace(identity_provider.tenant_id) not in r.raw_path for r in upstream.requests)


def test_the_application_setting_prefixes_every_upstream_call_and_negotiation(secured_env, send_to_user, negotiate,
                                                                              identity_provider, upstream):
    from functions.core.facade import reset_facade

    secured_env.setenv("SIGNALR_APPLICATION", "Shop")
    reset_facade()
    upstream.answer(Answer(202))
    assert send_to_user(identity_provider.mint(roles=["SignalR.Send"])).status_code == 202
    assert upstream.requests[0].path == "/api/v1/hubs/shop_chat/users/u1"
    assert upstream.requests[0].query == []
    url = json.loads(negotiate(identity_provider.mint(roles=["SignalR.Connect"])).get_body())["url"]
    assert url.endswith("/client/?hub=shop_chat")


# -- 5. caller-supplied values cannot forge log lines ----------------------------------------------------


def test_a_correlation_id_with_a_line_break_is_dead_lettered_and_never_logged_raw(execute, upstream, caplog):
    caplog.set_level(logging.INFO)
    forged = "x\nINFO queue command executed: message_id=forged"
    record = execute({"operation": "broadcast", "hub": "chat", "payload": {"target": "t", "arguments": []},
                      "id": forged})
    assert record is not None
    assert record["errors"][0]["field"] == "id"
    assert upstream.requests == []
    assert all("\n" not in r.getMessage() for r in caplog.records)


# -- 6. the access-key token cache is bounded by bytes -------------------------------------------------------


def test_the_token_cache_stays_within_its_byte_budget_for_long_audiences():
    credential = AccessKeyCredential(KEY, cache_bytes=256 * 1024)
    long_id = "%E2%82%AC" * 340  # a 1,020-character id, percent-encoded
    for n in range(2000):
        credential.bearer(f"https://x.service.signalr.net/api/v1/hubs/chat/users/{n}{long_id}")
    assert 0 < credential.cached_bytes <= 256 * 1024


def test_a_token_too_large_for_the_cache_is_signed_each_time_not_stored():
    credential = AccessKeyCredential(KEY, cache_bytes=16 * 1024)
    credential.bearer("https://x/api/v1/hubs/chat/users/" + "a" * 3000)
    assert credential.cached_bytes == 0
    credential.bearer("https://x/api/v1/hubs/chat/users/short")
    assert credential.cached_bytes > 0


# -- 2. anonymous health costs at most one upstream call, never retried -----------------------------------


def test_concurrent_health_probes_make_one_upstream_call(registered_functions, secured_env, upstream):
    health = registered_functions["health"].get_user_function()
    upstream.default = Answer(200, delay=0.5)
    statuses: list[int] = []

    def probe() -> None:
        statuses.append(health(func.HttpRequest("GET", "http://127.0.0.1/api/health", body=b"")).status_code)

    threads = [threading.Thread(target=probe) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(upstream.requests) == 1
    assert sorted(statuses) == [200] + [503] * 7  # the others got the pending result at once, no waiting


def test_a_throttled_upstream_is_probed_once_and_not_retried(registered_functions, secured_env, upstream):
    health = registered_functions["health"].get_user_function()
    upstream.default = Answer(429, {"Retry-After": "1"})
    started = time.monotonic()
    response = health(func.HttpRequest("GET", "http://127.0.0.1/api/health", body=b""))
    assert response.status_code == 503
    assert len(upstream.requests) == 1
    assert time.monotonic() - started < 1.0  # the Retry-After was not waited out
    health(func.HttpRequest("GET", "http://127.0.0.1/api/health", body=b""))
    assert len(upstream.requests) == 1  # the result is reused within the interval


# -- 7 and the deploy-ready issue: every malformed setting is named, never valued, and never raises ----------

MALFORMED = [
    ("AzureSignalRConnectionString", "Endpoint=http://[::1;AccessKey=s3cr3t-value;", "Endpoint"),
    ("AzureSignalRConnectionString", "Endpoint=http://exa mple.com;AccessKey=s3cr3t-value;", "Endpoint"),
    ("AzureSignalRConnectionString", "Endpoint=http://h;Port=\u00b2;AccessKey=s3cr3t-value;", "Port"),
    ("AzureSignalRConnectionString", "Endpoint=http://h;Port=\u0661;AccessKey=s3cr3t-value;", "Port"),
    ("AzureSignalRConnectionString", "Endpoint=http://h;AccessKey=ab;s3cr3t-value=x;s3cr3t-value=y", "duplicate"),
    ("AzureSignalRConnectionString", "Endpoint=http://h;AuthType=s3cr3t-value", "AuthType"),
    ("ENTRA_ACCEPT_V1_TOKENS", "maybe-s3cr3t-value", "ENTRA_ACCEPT_V1_TOKENS"),
    ("ENTRA_TENANT_ID", "s3cr3t-value", "ENTRA_TENANT_ID"),
    ("ENTRA_ALLOWED_TENANTS", "s3cr3t-value", "ENTRA_ALLOWED_TENANTS"),
    ("SIGNALR_APPLICATION", "s3cr3t-value", "SIGNALR_APPLICATION"),
    ("ENTRA_ALLOWED_CLIENT_APPS", "s3cr3t-value", "ENTRA_ALLOWED_CLIENT_APPS"),
]


@pytest.mark.parametrize(("name", "value", "named"), MALFORMED, ids=[f"{m[0]}:{m[2]}" for m in MALFORMED])
def test_a_malformed_setting_is_reported_by_name_and_requests_fail_closed(
    registered_functions, secured_env, identity_provider, upstream, caplog, name, value, named
):
    from functions.core.facade import reset_facade

    secured_env.setenv(name, value)
    if name == "ENTRA_ALLOWED_TENANTS":
        secured_env.setenv("ENTRA_TENANT_ID", "organizations")
    reset_facade()
    health = registered_functions["health"].get_user_function()
    with caplog.at_level("WARNING"):
        response = health(func.HttpRequest("GET", "http://127.0.0.1/api/health", body=b""))
    body = response.get_body().decode()
    assert response.status_code == 503
    assert named not in body  # anonymous callers see the status only (issue 22, item 7)
    assert named in caplog.text  # the operator reads it in the log
    sent = http_call(registered_functions, "sendToUser", "POST", "v1/hubs/chat/users/u", {"hub": "chat", "user": "u"},
                     identity_provider.mint(roles=["SignalR.Send"]), BODY)
    assert sent.status_code == 500
    assert upstream.requests == []
    everything = body + sent.get_body().decode() + caplog.text
    assert "s3cr3t-value" not in everything


def test_the_client_and_validator_are_built_once_whatever_the_threads(secured_env, monkeypatch):
    # On Python 3.12+ cached_property no longer locks: the warm-up thread and a first request
    # must still share one client (one set of probe threads) and one validator (one key fetch).
    from functions.core import facade as module

    built: list[str] = []
    real = module.SignalRClient.__init__

    def counting(self, *args, **kwargs):
        built.append("client")
        time.sleep(0.05)  # widen the window two builders would share
        real(self, *args, **kwargs)

    monkeypatch.setattr(module.SignalRClient, "__init__", counting)
    facade = module.get_facade()
    clients: list[object] = []
    threads = [threading.Thread(target=lambda: clients.append(facade.client)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert built == ["client"]
    assert len({id(c) for c in clients}) == 1
    assert facade.validator is facade.validator
