"""The API's Entra app registration (entra.bicep): permissions, token version, identifier URI."""

from __future__ import annotations

import pytest

from functions.catalog.operations import Permission
from support.bicep_model import Evaluator, Unknown

# The permissions the facade checks in `roles` and `scp` (functions.catalog.operations;
# docs/guides/authentication.md, "Permissions").
PERMISSIONS = {p.value for p in Permission}
APPLICATION = "Microsoft.Graph/applications"


@pytest.fixture(scope="session")
def entra(bicep_files) -> Evaluator:
    """entra.bicep evaluated with its defaults."""
    return Evaluator(bicep_files["entra.bicep"])


@pytest.fixture(scope="session")
def api_app(entra) -> dict:
    """The full (second-pass) definition of the API app registration."""
    definition = entra.module("apiAppDefinition")
    [app] = definition.file.resources_of_type(APPLICATION)
    [body] = definition.instances(app)
    return body


def test_roles_and_scopes_are_exactly_the_facade_permissions(api_app):
    assert {role["value"] for role in api_app["appRoles"]} == PERMISSIONS
    assert {scope["value"] for scope in api_app["api"]["oauth2PermissionScopes"]} == PERMISSIONS


def test_each_role_and_scope_of_a_permission_share_id_and_wording(api_app):
    # Entra rejects a role and a scope with the same value unless id, names, descriptions and
    # enabled state all match.
    scopes = {scope["value"]: scope for scope in api_app["api"]["oauth2PermissionScopes"]}
    for role in api_app["appRoles"]:
        scope = scopes[role["value"]]
        assert scope["id"] == role["id"]
        assert scope["adminConsentDisplayName"] == role["displayName"]
        assert scope["adminConsentDescription"] == role["description"]
        assert scope["isEnabled"] is role["isEnabled"] is True


def test_permission_ids_derive_from_the_registration_and_the_value(entra, api_app):
    # Stable across redeployments, distinct per permission, and what role assignments refer to.
    unique_name = entra.params["apiAppUniqueName"]
    for role in api_app["appRoles"]:
        assert role["id"] == Unknown(f"guid({unique_name}, {role['value']})")
    assert len({role["id"] for role in api_app["appRoles"]}) == len(PERMISSIONS)


def test_roles_can_be_granted_to_apps_and_users_and_scopes_need_admin_consent(api_app):
    for role in api_app["appRoles"]:
        assert set(role["allowedMemberTypes"]) == {"User", "Application"}
    for scope in api_app["api"]["oauth2PermissionScopes"]:
        assert scope["type"] == "Admin"


def test_the_api_asks_for_v2_access_tokens(api_app):
    # Otherwise Entra issues v1.0 tokens, which the facade refuses by default.
    assert api_app["api"]["requestedAccessTokenVersion"] == 2


def test_the_identifier_uri_is_api_slash_slash_the_app_id(api_app):
    assert api_app["identifierUris"] == ["api://{apiApp.appId}"]


def test_both_passes_declare_the_same_registration(entra, api_app):
    [first] = entra.instances(entra.file.resources["apiApp"])
    for key in ("uniqueName", "displayName", "signInAudience"):
        assert api_app[key] == first[key], key
    assert first["signInAudience"] == "AzureADMyOrg"


def test_the_service_principal_and_role_assignments_target_this_app(entra):
    [principal] = entra.instances(entra.file.resources["apiServicePrincipal"])
    assert principal["appId"] == Unknown("apiApp.appId")
    # Only assigned callers get tokens: otherwise any service principal of the tenant could.
    assert principal["appRoleAssignmentRequired"] is True
    granted = Evaluator(
        entra.file,
        {"appRoleAssignments": [{"principalId": "00000000-0000-0000-0000-00000000beef", "permission": "SignalR.Send"}]},
    )
    [assignment] = granted.instances(entra.file.resources["roleAssignments"])
    assert assignment["resourceId"] == Unknown("apiServicePrincipal.id")
    assert assignment["principalId"] == "00000000-0000-0000-0000-00000000beef"
    [send] = [role for role in api_app_roles(granted) if role["value"] == "SignalR.Send"]
    assert assignment["appRoleId"] == send["id"]


def api_app_roles(entra: Evaluator) -> list[dict]:
    definition = entra.module("apiAppDefinition")
    [body] = definition.instances(definition.file.resources["apiApp"])
    return body["appRoles"]


def test_main_accepts_the_audiences_the_registration_issues(app_settings, api_client_id):
    # v2.0 tokens carry the client id; a v1.0 token (if accepted) carries api://<client id>.
    assert app_settings["ENTRA_AUDIENCES"].split(",") == [api_client_id, f"api://{api_client_id}"]


def test_main_takes_the_client_id_entra_bicep_outputs(bicep_files):
    assert "apiClientId" in bicep_files["entra.bicep"].outputs
    assert "apiClientId" in bicep_files["main.bicep"].params
