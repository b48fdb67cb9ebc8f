"""The managed-identity path to SignalR, for real: azure-identity's ManagedIdentityCredential
asks a stand-in of the Functions identity endpoint (devstack/identity_endpoint.py) for a token
the dev identity provider signs, and the SignalR emulator checks it like the service does."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator

import azure.functions as func
import pytest

from devstack.emulator import DEV_ACCESS_KEY, EmulatorServer, EntraTrust
from devstack.identity_endpoint import DEV_IDENTITY_CLIENT_ID, IdentityEndpoint
from devstack.idp import V1_ISSUER, DevIdentityProvider
from support.http_calls import function_caller

BROADCAST = ("broadcast", "POST", {"hub": "chat"})
MESSAGE = {"target": "newMessage", "arguments": ["mi", "hello"]}


@pytest.fixture
def signalr_emulator(idp: DevIdentityProvider) -> Iterator[EmulatorServer]:
    """The SignalR emulator trusting Entra tokens from the dev provider (v1 issuer, as for managed identities)."""
    trust = EntraTrust(V1_ISSUER.format(tenant=idp.tenant_id), idp.jwks_url)
    with EmulatorServer(DEV_ACCESS_KEY, entra=trust) as server:
        yield server


@pytest.fixture
def identity_endpoint(idp: DevIdentityProvider) -> Iterator[IdentityEndpoint]:
    with IdentityEndpoint(idp) as endpoint:
        yield endpoint


@pytest.fixture
def msi_env(secured_env: pytest.MonkeyPatch, signalr_emulator: EmulatorServer,
            identity_endpoint: IdentityEndpoint) -> pytest.MonkeyPatch:
    """The facade as on Azure: AuthType=azure.msi with a user-assigned identity's client id."""
    from functions.core.facade import reset_facade

    for name, value in identity_endpoint.environ().items():
        secured_env.setenv(name, value)
    secured_env.setenv("AzureSignalRConnectionString",
                       f"Endpoint=http://127.0.0.1;Port={signalr_emulator.port};AuthType=azure.msi;"
                       f"ClientId={DEV_IDENTITY_CLIENT_ID};Version=1.0;")
    reset_facade()
    return secured_env


@pytest.fixture
def call(registered_functions: dict, msi_env: pytest.MonkeyPatch, idp: DevIdentityProvider
         ) -> Callable[..., func.HttpResponse]:
    return function_caller(registered_functions, idp)


def broadcast(call: Callable[..., func.HttpResponse]) -> func.HttpResponse:
    return call(*BROADCAST, body=MESSAGE)


def rest_statuses(emulator: EmulatorServer) -> list[int]:
    return [r["status"] for r in emulator.requests() if r["path"].startswith("/api/")]


def test_the_token_is_fetched_once_and_accepted_by_the_emulator(call, identity_endpoint, signalr_emulator):
    for _ in range(3):
        assert broadcast(call).status_code == 202
    assert identity_endpoint.requests == 1
    assert rest_statuses(signalr_emulator) == [202, 202, 202]


def test_negotiate_asks_the_emulator_to_generate_the_client_token_with_it(call, identity_endpoint, signalr_emulator):
    response = call("negotiate", "POST", {"hub": "chat"}, "negotiateVersion=1", roles=["SignalR.Connect"])
    assert response.status_code == 200, response.get_body()
    body = json.loads(response.get_body())
    assert body["url"].startswith(f"http://127.0.0.1:{signalr_emulator.port}/client/?hub=chat")
    assert [r["path"] for r in signalr_emulator.requests()] == ["/api/hubs/chat/:generateToken"]
    assert rest_statuses(signalr_emulator) == [200]


def test_a_token_near_expiry_is_refreshed(call, identity_endpoint):
    # azure-identity (MSAL) and the facade both treat a token with under 5 minutes left as due.
    identity_endpoint.lifetime = 300 + 1
    assert broadcast(call).status_code == 202
    assert broadcast(call).status_code == 202
    assert identity_endpoint.requests == 1  # reused while more than 5 minutes are left
    time.sleep(1.3)
    assert broadcast(call).status_code == 202
    assert identity_endpoint.requests == 2  # refreshed once it was due
    assert broadcast(call).status_code == 202
    assert identity_endpoint.requests == 2


def test_a_failed_refresh_keeps_the_last_good_token(call, identity_endpoint, signalr_emulator):
    identity_endpoint.lifetime = 300 + 1
    assert broadcast(call).status_code == 202
    time.sleep(1.3)
    identity_endpoint.available = False
    assert broadcast(call).status_code == 202  # due for refresh, refresh failed, token still valid
    assert identity_endpoint.requests >= 2
    assert rest_statuses(signalr_emulator) == [202, 202]


def test_identity_endpoint_down_is_503_with_retry_after_and_nothing_leaked(
    call, identity_endpoint, signalr_emulator, caplog: pytest.LogCaptureFixture
):
    identity_endpoint.stop()
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    response = broadcast(call)
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert int(response.headers["Retry-After"]) >= 1
    body = response.get_body().decode()
    assert json.loads(body)["type"].endswith(":upstream-unavailable")
    for text in (body, caplog.text):
        assert identity_endpoint.secret not in text
    attempts = identity_endpoint.requests
    assert broadcast(call).status_code == 503  # asked again only after Retry-After
    assert identity_endpoint.requests == attempts
    assert rest_statuses(signalr_emulator) == []


def test_an_endpoint_error_is_503_too(call, identity_endpoint):
    identity_endpoint.available = False
    response = broadcast(call)
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_a_token_for_another_audience_is_refused_by_the_emulator_as_502(call, identity_endpoint, signalr_emulator):
    identity_endpoint.audience = "https://management.azure.com"
    response = broadcast(call)
    assert response.status_code == 502
    assert json.loads(response.get_body())["type"].endswith(":upstream-auth")
    assert rest_statuses(signalr_emulator) == [401]


def test_the_emulator_refuses_entra_tokens_from_another_issuer_or_expired(idp, signalr_emulator, identity_endpoint):
    import requests

    url = f"{signalr_emulator.base_url}/api/v1/hubs/chat"
    good = idp.mint(version=1, audience="https://signalr.azure.com")
    wrong_issuer = idp.mint(version=2, audience="https://signalr.azure.com")
    expired = idp.mint(version=1, audience="https://signalr.azure.com", lifetime=-60)
    unknown_key = idp.mint(version=1, audience="https://signalr.azure.com", key=idp.add_key(publish=False))
    for token, status in ((good, 202), (wrong_issuer, 401), (expired, 401), (unknown_key, 401)):
        answer = requests.post(url, json=MESSAGE, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == status, answer.text


def test_the_emulator_refuses_entra_tokens_when_not_configured(idp):
    import requests

    with EmulatorServer(DEV_ACCESS_KEY) as plain:
        token = idp.mint(version=1, audience="https://signalr.azure.com")
        answer = requests.post(f"{plain.base_url}/api/v1/hubs/chat", json=MESSAGE, timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401


def test_the_worker_warm_up_fetches_keys_and_token_before_the_first_request(
    call, msi_env: pytest.MonkeyPatch, idp: DevIdentityProvider, identity_endpoint
):
    from functions.core import warmup
    from functions.core.facade import get_facade

    msi_env.setenv("FUNCTIONS_WORKER_RUNTIME", "python")
    threads = warmup.start()
    for thread in threads:
        thread.join(10)
    assert len(threads) == 2
    assert not any(thread.is_alive() for thread in threads)
    assert (idp.metadata_fetches, idp.jwks_fetches, identity_endpoint.requests) == (1, 1, 1)
    assert broadcast(call).status_code == 202
    # Nothing more fetched by the facade (the emulator fetches the provider's keys for itself).
    assert get_facade().validator.keys.fetch_attempts == 1
    assert (idp.metadata_fetches, identity_endpoint.requests) == (1, 1)


def test_no_warm_up_outside_a_functions_worker(msi_env: pytest.MonkeyPatch, identity_endpoint):
    from functions.core import warmup

    msi_env.delenv("FUNCTIONS_WORKER_RUNTIME", raising=False)
    assert warmup.start() == []
    assert identity_endpoint.requests == 0


def test_the_identity_endpoint_stand_in_answers_only_the_platform_protocol(identity_endpoint):
    import requests

    def ask(header: str | None = None, **params: str) -> requests.Response:
        query = {"api-version": "2019-08-01", "resource": "https://signalr.azure.com", **params}
        headers = {"X-IDENTITY-HEADER": header or identity_endpoint.secret}
        return requests.get(identity_endpoint.url, params=query, headers=headers, timeout=5)

    good = ask(client_id=DEV_IDENTITY_CLIENT_ID)
    assert good.status_code == 200
    assert set(good.json()) >= {"access_token", "expires_on", "resource", "token_type"}
    assert int(good.json()["expires_on"]) > time.time() + 3000
    assert ask(header="wrong").status_code == 401
    assert ask(resource="https://management.azure.com").status_code == 400
    assert ask(client_id="another-identity").status_code == 400
    assert ask(**{"api-version": "2017-09-01"}).status_code == 400
