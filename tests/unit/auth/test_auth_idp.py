"""The development identity provider: what it serves, what it mints, and its process mode."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devstack.idp import (
    ALL_PERMISSIONS,
    DEV_AUDIENCE,
    DEV_CLIENT_ID,
    DEV_TENANT_ID,
    DevIdentityProvider,
    mint_from_state,
)
from functions.auth import TokenValidator
from functions.catalog.operations import Permission
from functions.core.settings import Settings

from .helpers import segments

REPO = Path(__file__).resolve().parents[3]


def test_it_serves_entra_shaped_metadata_and_keys(idp: DevIdentityProvider):
    metadata = requests.get(idp.metadata_url, timeout=5).json()
    assert metadata["issuer"] == idp.issuer == f"{idp.base_url}/{DEV_TENANT_ID}/v2.0"
    assert metadata["jwks_uri"] == idp.jwks_url
    organizations = requests.get(idp.metadata_url_for("organizations"), timeout=5).json()
    assert organizations["issuer"] == f"{idp.base_url}/{{tenantid}}/v2.0"
    keys = requests.get(idp.jwks_url, timeout=5).json()["keys"]
    assert [k["kid"] for k in keys] == [idp.current_kid]
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["use"] == "sig"
    assert keys[0]["issuer"] == f"{idp.base_url}/{{tenantid}}/v2.0"
    assert "d" not in keys[0]  # public part only
    assert (idp.metadata_fetches, idp.jwks_fetches) == (2, 1)
    assert requests.get(idp.base_url + "/nowhere", timeout=5).status_code == 404


def test_it_can_pretend_to_be_down(idp: DevIdentityProvider):
    idp.set_available(False)
    assert requests.get(idp.metadata_url, timeout=5).status_code == 503
    assert requests.get(idp.jwks_url, timeout=5).status_code == 503
    idp.set_available(True)
    assert requests.get(idp.jwks_url, timeout=5).status_code == 200


def test_mint_shapes_a_v2_access_token(idp: DevIdentityProvider):
    header, claims, _ = segments(idp.mint(roles=["SignalR.Send"], scopes=["SignalR.Read", "openid"]))
    assert header == {"alg": "RS256", "kid": idp.current_kid, "typ": "JWT"}
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == DEV_AUDIENCE
    assert claims["tid"] == DEV_TENANT_ID
    assert claims["ver"] == "2.0"
    assert claims["azp"] == DEV_CLIENT_ID
    assert claims["roles"] == ["SignalR.Send"]
    assert claims["scp"] == "SignalR.Read openid"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["nbf"] == claims["iat"]


def test_mint_shapes_a_v1_access_token(idp: DevIdentityProvider):
    _, claims, _ = segments(idp.mint(version=1, roles=["SignalR.Send"]))
    assert claims["iss"] == f"https://sts.windows.net/{DEV_TENANT_ID}/"
    assert claims["ver"] == "1.0"
    assert claims["appid"] == DEV_CLIENT_ID
    assert "azp" not in claims
    assert claims["idtyp"] == "app"


def test_rotate_publishes_the_new_key_and_retires_the_old(idp: DevIdentityProvider):
    first = idp.current_kid
    second = idp.rotate(keep_old=True)
    assert {k["kid"] for k in idp.jwks()["keys"]} == {first, second}
    third = idp.rotate()
    assert {k["kid"] for k in idp.jwks()["keys"]} == {first, third}
    assert segments(idp.mint())[0]["kid"] == third


def test_state_dir_lets_another_process_mint_accepted_tokens(idp: DevIdentityProvider, tmp_path: Path):
    state_dir = tmp_path / "state"
    idp.save_state(state_dir)
    for path in state_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = mint_from_state(state_dir, roles=["SignalR.Send"])
    validator = TokenValidator(
        Settings(entra_tenant_id=DEV_TENANT_ID, entra_audiences=(DEV_AUDIENCE,), entra_metadata_url=idp.metadata_url)
    )
    assert validator.authenticate("Bearer " + token).has_permission("SignalR.Send")


def test_it_runs_as_a_process(tmp_path: Path):
    state_dir = tmp_path / "idp"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.idp", "--port", "0", "--audience", "api://custom", "--state-dir",
         str(state_dir)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        announced = json.loads(process.stdout.readline())
        token = mint_from_state(state_dir, scopes=["SignalR.Read"])
        settings = Settings(
            entra_tenant_id=DEV_TENANT_ID,
            entra_audiences=("api://custom",),
            entra_metadata_url=announced["metadata_url"],
        )
        assert TokenValidator(settings).authenticate("Bearer " + token).has_permission("SignalR.Read")
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_the_demo_sign_in_grants_every_catalog_permission_unless_roles_are_named(idp: DevIdentityProvider):
    signed_in = requests.post(idp.base_url + "/dev/token", json={"user": "alice"}, timeout=5).json()
    _, claims, _ = segments(signed_in["access_token"])
    assert claims["roles"] == [permission.value for permission in Permission]
    assert claims["oid"] == "alice"
    assert ALL_PERMISSIONS == tuple(permission.value for permission in Permission)
    reader = requests.post(idp.base_url + "/dev/token", json={"roles": ["SignalR.Read"]}, timeout=5).json()
    assert segments(reader["access_token"])[1]["roles"] == ["SignalR.Read"]


def test_reset_restores_the_starting_keys_availability_and_counts(idp: DevIdentityProvider):
    first = idp.current_kid
    added = idp.rotate()
    idp.set_available(False)
    requests.get(idp.jwks_url, timeout=5)
    idp.reset()
    assert idp.current_kid == first
    assert idp.jwks_fetches == 0
    assert [k["kid"] for k in requests.get(idp.jwks_url, timeout=5).json()["keys"]] == [first]
    with pytest.raises(KeyError):
        idp.signing_key(added)


def test_keys_and_http_modules_know_nothing_of_the_provider():
    for module in ("state", "http", "tokens"):
        tree = ast.parse((REPO / "devstack" / "idp" / f"{module}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert "devstack.idp" not in imported
        assert not any(name.startswith("devstack.") for name in imported)
