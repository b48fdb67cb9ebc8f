"""An optional second SignalR instance in another region: same identity, roles and settings (issue 12)."""

from __future__ import annotations

from functions.core.settings import Settings
from functions.signalr.endpoints import EndpointType
from support.bicep_model import Unknown

SECOND = "westeurope"
ENDPOINT = "Azure__SignalR__Endpoints__failover__secondary"
REST_API_OWNER = "fd53cd77-2268-407a-8f46-7e7863d0f521"


def test_by_default_there_is_one_instance_and_no_endpoint_settings(resources_of_type, app_settings):
    assert len(resources_of_type("Microsoft.SignalRService/signalR")) == 1
    assert not [name for name in app_settings if name.startswith("Azure__SignalR__")]
    rbac = [r for r in resources_of_type("Microsoft.Authorization/roleAssignments")
            if r.declaration.name == "secondarySignalRRoleAssignments"]
    assert rbac == []


def test_the_second_instance_is_in_its_region_with_the_same_sku_auth_and_cors(resources_of_type):
    origins = ["https://app.contoso.com"]
    first, second = resources_of_type("Microsoft.SignalRService/signalR", signalRSecondaryLocation=SECOND,
                                      corsAllowedOrigins=origins, signalRSku="Premium_P1", signalRCapacity=2)
    assert second.body["location"] == SECOND
    assert str(second.body["name"]) == str(first.body["name"]) + "-2"
    for key in ("sku", "kind"):
        assert second.body[key] == first.body[key]
    assert second.properties == first.properties
    assert second.properties["disableLocalAuth"] is True
    assert second.properties["cors"]["allowedOrigins"] == origins


def test_the_app_identity_gets_the_same_signalr_role_on_the_second_instance(resources_of_type):
    assignments = resources_of_type("Microsoft.Authorization/roleAssignments", signalRSecondaryLocation=SECOND)
    by_name = {}
    for a in assignments:
        by_name.setdefault(a.declaration.name, []).append(a)
    [first] = by_name["signalRRoleAssignments"]
    [second] = by_name["secondarySignalRRoleAssignments"]
    assert second.properties == first.properties
    assert second.properties["roleDefinitionId"].endswith(REST_API_OWNER)
    assert second.body["scope"] == Unknown("secondarySignalR")


def test_the_second_instance_is_a_secondary_endpoint_in_identity_form_the_code_reads(resources_of_type):
    [config] = resources_of_type("Microsoft.Web/sites/config", signalRSecondaryLocation=SECOND)
    settings = config.properties
    assert settings[f"{ENDPOINT}__serviceUri"] == Unknown("signalRSecondary.outputs.endpoint")
    assert settings[f"{ENDPOINT}__credential"] == "managedidentity"
    assert settings[f"{ENDPOINT}__clientId"] == Unknown("identity.outputs.clientId")
    # As deployed (the endpoint and the identity's client id filled in), the facade reads both instances.
    client_id = "11111111-2222-3333-4444-555555555555"
    deployed = {name: str(value) for name, value in settings.items() if isinstance(value, str)} | {
        "AzureSignalRConnectionString":
            f"Endpoint=https://sigr-a.service.signalr.net;AuthType=azure.msi;ClientId={client_id};Version=1.0;",
        f"{ENDPOINT}__serviceUri": "https://sigr-a-2.service.signalr.net",
        f"{ENDPOINT}__clientId": client_id,
    }
    read = Settings.from_environ(deployed)
    assert not [p for p in read.read_problems if "Azure__SignalR" in p]
    assert [(e.name, e.type, e.info.auth_type, e.info.client_id) for e in read.signalr_endpoints] == [
        ("default", EndpointType.PRIMARY, "azure.msi", client_id),
        ("failover", EndpointType.SECONDARY, "azure.msi", client_id),
    ]


def test_the_receiver_accepts_upstream_calls_from_both_instances_identities(resources_of_type):
    [config] = resources_of_type("Microsoft.Web/sites/config", signalRSecondaryLocation=SECOND)
    identities = str(config.properties["SIGNALR_UPSTREAM_IDENTITIES"])
    assert "signalR.outputs.principalId" in identities
    assert "signalRSecondary.outputs.principalId" in identities
    [default] = resources_of_type("Microsoft.Web/sites/config")
    assert "signalRSecondary" not in str(default.properties["SIGNALR_UPSTREAM_IDENTITIES"])
