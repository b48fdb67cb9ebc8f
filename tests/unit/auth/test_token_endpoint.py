"""The dev identity provider's token endpoint (issue 26, item 1): the client-credentials grant at the
advertised token_endpoint, over http for plain requests and over https (a throwaway certificate) for MSAL
and azure-identity, each token accepted by the facade's validator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msal
import pytest
import requests
from azure.identity import ClientSecretCredential

from devstack.idp import ALL_PERMISSIONS, DEV_AUDIENCE, DEV_TENANT_ID, DevIdentityProvider
from devstack.idp.tls import CERT_FILE, server_context, write_dev_certificate
from functions.auth import TokenValidator
from functions.auth.keys import SigningKeyCache
from functions.core.settings import Settings

from .helpers import segments

SCOPE = f"{DEV_AUDIENCE}/.default"


@pytest.fixture(scope="module")
def tls_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevIdentityProvider, Path]]:
    folder = tmp_path_factory.mktemp("idp-tls")
    cert = write_dev_certificate(folder)
    idp = DevIdentityProvider(clients={"reader-app": ["SignalR.Read"]}).start(tls=server_context(folder))
    yield idp, cert
    idp.stop()


@pytest.fixture
def facade_validator(tls_idp) -> TokenValidator:
    idp, _ = tls_idp
    settings = Settings(entra_tenant_id=DEV_TENANT_ID, entra_audiences=(DEV_AUDIENCE,),
                        entra_metadata_url=idp.metadata_url)
    return TokenValidator(settings, keys=SigningKeyCache(idp.metadata_url, timeout=5))


def grant(idp: DevIdentityProvider, **form: str) -> requests.Response:
    fields = {"grant_type": "client_credentials", "client_id": "my-backend", "client_secret": "any", "scope": SCOPE}
    fields.update(form)
    return requests.post(f"{idp.base_url}/{DEV_TENANT_ID}/oauth2/v2.0/token", data=fields, timeout=10)


def test_the_advertised_token_endpoint_serves_the_grant(tls_idp, facade_validator):
    idp, _ = tls_idp
    metadata = requests.get(idp.metadata_url, timeout=10).json()
    response = requests.post(metadata["token_endpoint"], timeout=10, data={
        "grant_type": "client_credentials", "client_id": "my-backend", "client_secret": "any", "scope": SCOPE})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    principal = facade_validator.authenticate(f"Bearer {body['access_token']}")
    assert all(principal.has_permission(p) for p in ALL_PERMISSIONS)  # a client the table does not list
    _, claims, _ = segments(body["access_token"])
    assert (claims["azp"], claims["aud"], claims["idtyp"]) == ("my-backend", DEV_AUDIENCE, "app")


def test_the_clients_table_maps_a_client_to_its_roles(tls_idp, facade_validator):
    idp, _ = tls_idp
    token = grant(idp, client_id="reader-app").json()["access_token"]
    _, claims, _ = segments(token)
    assert claims["roles"] == ["SignalR.Read"]
    assert not facade_validator.authenticate(f"Bearer {token}").has_permission("SignalR.Send")


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "password"}, "unsupported_grant_type"),
    ({"client_secret": ""}, "invalid_request"),
    ({"scope": "https://graph.microsoft.com/.default"}, "invalid_scope"),
])
def test_a_wrong_request_is_an_oauth_error(tls_idp, form, error):
    idp, _ = tls_idp
    response = grant(idp, **form)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_a_wrong_scope_names_the_right_one(tls_idp):
    idp, _ = tls_idp
    assert SCOPE in grant(idp, scope="api://other/.default").json()["error_description"]


def test_msal_gets_a_token_the_facade_accepts(tls_idp, facade_validator, monkeypatch):
    idp, cert = tls_idp
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    app = msal.ConfidentialClientApplication("my-backend", client_credential="any-secret",
                                             authority=f"{idp.tls_base_url}/{DEV_TENANT_ID}",
                                             instance_discovery=False)
    result = app.acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in result, result.get("error_description")
    assert facade_validator.authenticate(f"Bearer {result['access_token']}").has_permission("SignalR.Send")


def test_azure_identity_gets_a_token_the_facade_accepts(tls_idp, facade_validator, monkeypatch):
    idp, cert = tls_idp
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    credential = ClientSecretCredential(DEV_TENANT_ID, "my-backend", "any-secret", authority=idp.tls_base_url,
                                        disable_instance_discovery=True)
    token = credential.get_token(SCOPE)
    assert facade_validator.authenticate(f"Bearer {token.token}").has_permission("SignalR.Send")


def test_the_certificate_file_is_where_the_docs_say(tls_idp):
    _, cert = tls_idp
    assert cert.name == CERT_FILE == "tls-cert.pem"
