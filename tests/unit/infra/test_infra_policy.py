"""Security and platform properties of what main.bicep deploys, read from the evaluated templates.

Rule names in comments are the PSRule for Azure rules each test mirrors.
"""

from __future__ import annotations

import re

import pytest

from support.bicep_model import Partial, Unknown

STABLE_SIGNALR_API = "2024-03-01"


def one(resources_of_type, resource_type, **overrides):
    [resource] = resources_of_type(resource_type, **overrides)
    return resource


# --- Storage ---------------------------------------------------------------------------


def test_storage_accepts_only_entra_id_over_tls_1_2(resources_of_type):
    # Azure.Storage.MinTLS, SecureTransfer, BlobPublicAccess, LocalAuth
    account = one(resources_of_type, "Microsoft.Storage/storageAccounts").properties
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["supportsHttpsTrafficOnly"] is True
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    assert account["defaultToOAuthAuthentication"] is True
    assert account["allowCrossTenantReplication"] is False


def test_the_deployment_container_is_private(resources_of_type):
    container = one(resources_of_type, "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert container.properties["publicAccess"] == "None"
    assert container.body["name"].startswith("app-package-")


@pytest.mark.parametrize("queue", ["signalr-commands", "jobs"])
def test_the_commands_queue_its_dead_letters_and_poison_queue_are_created(resources_of_type, queue):
    queues = resources_of_type("Microsoft.Storage/storageAccounts/queueServices/queues", commandsQueueName=queue)
    assert sorted(q.body["name"] for q in queues) == sorted([queue, f"{queue}-invalid", f"{queue}-poison",
                                                             "signalr-events"])


def test_the_idempotency_table_is_created_under_its_parameter(resources_of_type):
    tables = resources_of_type("Microsoft.Storage/storageAccounts/tableServices/tables", idempotencyTableName="records")
    assert [t.body["name"] for t in tables] == ["records"]


def test_the_events_queue_is_created_under_its_parameter(resources_of_type):
    queues = resources_of_type("Microsoft.Storage/storageAccounts/queueServices/queues", eventsQueueName="clients")
    assert "clients" in {q.body["name"] for q in queues}


# --- SignalR ---------------------------------------------------------------------------


def test_signalr_is_serverless_with_connectivity_logs_on_the_stable_api(resources_of_type):
    signalr = one(resources_of_type, "Microsoft.SignalRService/signalR")
    assert signalr.declaration.api_version == STABLE_SIGNALR_API
    assert signalr.body["kind"] == "SignalR"
    features = {f["flag"]: f["value"] for f in signalr.properties["features"]}
    assert features["ServiceMode"] == "Serverless"
    assert features["EnableConnectivityLogs"].lower() == "true"
    logs = {c["name"]: c["enabled"] for c in signalr.properties["resourceLogConfiguration"]["categories"]}
    assert logs["ConnectivityLogs"] == "true"


def test_signalr_posts_every_client_event_to_the_receiver_with_its_own_identity(resources_of_type, api_client_id):
    signalr = one(resources_of_type, "Microsoft.SignalRService/signalR")
    assert signalr.body["identity"] == {"type": "SystemAssigned"}
    [template] = signalr.properties["upstream"]["templates"]
    assert (template["hubPattern"], template["categoryPattern"], template["eventPattern"]) == ("*", "*", "*")
    assert template["auth"] == {"type": "ManagedIdentity", "managedIdentity": {"resource": f"api://{api_client_id}"}}
    url = str(template["urlTemplate"])
    assert re.fullmatch(r"https://func-\{[^}]+\}\.azurewebsites\.net/api/upstream/\{hub\}/\{category\}/\{event\}", url)


def test_the_upstream_base_url_can_be_a_custom_domain(resources_of_type):
    signalr = one(resources_of_type, "Microsoft.SignalRService/signalR", upstreamBaseUrl="https://events.contoso.com")
    [template] = signalr.properties["upstream"]["templates"]
    assert template["urlTemplate"] == "https://events.contoso.com/api/upstream/{hub}/{category}/{event}"


def test_signalr_is_entra_only_unless_keys_are_allowed(resources_of_type):
    # Azure.SignalR.LocalAuth (disableLocalAuth), with Entra ID always on.
    default = one(resources_of_type, "Microsoft.SignalRService/signalR").properties
    assert default["disableLocalAuth"] is True
    assert default["disableAadAuth"] is False
    with_keys = one(resources_of_type, "Microsoft.SignalRService/signalR", signalRAllowAccessKeys=True)
    assert with_keys.properties["disableLocalAuth"] is False


def test_signalr_defaults_to_standard_and_allows_a_free_trial(resources_of_type):
    default = one(resources_of_type, "Microsoft.SignalRService/signalR").body["sku"]
    assert default == {"name": "Standard_S1", "tier": "Standard", "capacity": 1}
    free = one(resources_of_type, "Microsoft.SignalRService/signalR", signalRSku="Free_F1", signalRCapacity=5)
    assert free.body["sku"] == {"name": "Free_F1", "tier": "Free", "capacity": 1}


def test_signalr_cors_is_the_origins_parameter(resources_of_type):
    origins = ["https://app.contoso.com", "http://localhost:5173"]
    signalr = one(resources_of_type, "Microsoft.SignalRService/signalR", corsAllowedOrigins=origins)
    assert signalr.properties["cors"]["allowedOrigins"] == origins


def test_signalr_public_endpoint_serves_only_clients_and_the_rest_api(resources_of_type):
    acls = one(resources_of_type, "Microsoft.SignalRService/signalR").properties["networkACLs"]
    assert acls["defaultAction"] == "Deny"
    assert set(acls["publicNetwork"]["allow"]) == {"ClientConnection", "RESTAPI"}


def diagnostic_settings(resources_of_type) -> dict[str, dict]:
    """Every diagnostic setting, by the resource it is scoped to."""
    return {str(s.body["scope"]): s.properties for s in resources_of_type("Microsoft.Insights/diagnosticSettings")}


def test_signalr_logs_go_to_log_analytics(resources_of_type):
    settings = diagnostic_settings(resources_of_type)["{signalR}"]
    assert settings["workspaceId"] == Unknown("monitoring.outputs.logAnalyticsWorkspaceId")
    assert {"categoryGroup": "allLogs", "enabled": True} in settings["logs"]


def test_function_app_and_queue_service_logs_go_to_the_same_workspace(resources_of_type):
    # Who put which command on the queue, and what each function did, are auditable beside SignalR's logs.
    settings = diagnostic_settings(resources_of_type)
    assert set(settings) == {"{signalR}", "{functionApp}", "{storage::queueService}"}
    app, queue = settings["{functionApp}"], settings["{storage::queueService}"]
    assert app["workspaceId"] == queue["workspaceId"] == Unknown("monitoring.outputs.logAnalyticsWorkspaceId")
    assert {"category": "FunctionAppLogs", "enabled": True} in app["logs"]
    assert {log["category"] for log in queue["logs"] if log["enabled"]} == {"StorageRead", "StorageWrite",
                                                                           "StorageDelete"}


# --- Function app ----------------------------------------------------------------------


def test_the_plan_is_flex_consumption(resources_of_type):
    plan = one(resources_of_type, "Microsoft.Web/serverfarms")
    assert plan.body["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan.body["kind"] == "functionapp"
    assert plan.properties["reserved"] is True


def test_the_app_runs_python_3_11_from_a_blob_read_with_its_identity(resources_of_type):
    site = one(resources_of_type, "Microsoft.Web/sites")
    assert site.body["kind"] == "functionapp,linux"
    config = site.properties["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": Unknown("identity.outputs.id"),
    }


def test_instance_memory_and_maximum_instances_are_parameters(resources_of_type):
    site = one(resources_of_type, "Microsoft.Web/sites", instanceMemoryMB=4096, maximumInstanceCount=250)
    assert site.properties["functionAppConfig"]["scaleAndConcurrency"] == {
        "instanceMemoryMB": 4096,
        "maximumInstanceCount": 250,
    }


def test_the_app_runs_only_as_its_user_assigned_identity(resources_of_type):
    # Azure.AppService.ManagedIdentity
    identity = one(resources_of_type, "Microsoft.Web/sites").body["identity"]
    assert identity["type"] == "UserAssigned"
    assert list(identity["userAssignedIdentities"]) == [str(Unknown("identity.outputs.id"))]


def test_the_app_is_https_only_tls_1_2_without_ftp_or_remote_debugging(resources_of_type):
    # Azure.AppService.UseHTTPS, MinTLS, RemoteDebug
    site = one(resources_of_type, "Microsoft.Web/sites").properties
    assert site["httpsOnly"] is True
    config = site["siteConfig"]
    assert config["minTlsVersion"] == "1.2"
    assert config["scmMinTlsVersion"] == "1.2"
    # No ftpsState: Flex refuses it (test_infra_flex.py); FTP is off by the publishing policies below.
    assert "ftpsState" not in config
    assert config["remoteDebuggingEnabled"] is False


def test_publishing_passwords_are_disabled_for_ftp_and_scm(resources_of_type):
    policies = resources_of_type("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert {p.body["name"]: p.properties["allow"] for p in policies} == {"ftp": False, "scm": False}


def test_app_cors_is_the_explicit_origins_parameter_with_credentials(resources_of_type):
    # @microsoft/signalr negotiates with credentials (withCredentials defaults to true).
    origins = ["https://app.contoso.com"]
    cors = one(resources_of_type, "Microsoft.Web/sites", corsAllowedOrigins=origins).properties["siteConfig"]["cors"]
    assert cors == {"allowedOrigins": origins, "supportCredentials": True}
    assert "*" not in one(resources_of_type, "Microsoft.Web/sites").properties["siteConfig"]["cors"]["allowedOrigins"]
    # A wildcard (against the parameter's description) never comes with credentials.
    wildcard = one(resources_of_type, "Microsoft.Web/sites", corsAllowedOrigins=["*"]).properties["siteConfig"]["cors"]
    assert wildcard["supportCredentials"] is False


def test_zone_redundant_deployments_use_zone_redundant_storage(resources_of_type):
    zonal = one(resources_of_type, "Microsoft.Storage/storageAccounts", zoneRedundant=True)
    assert zonal.body["sku"] == {"name": "Standard_ZRS"}
    assert one(resources_of_type, "Microsoft.Web/serverfarms", zoneRedundant=True).properties["zoneRedundant"] is True
    assert one(resources_of_type, "Microsoft.Storage/storageAccounts").body["sku"] == {"name": "Standard_LRS"}


def test_every_role_assignment_names_its_principal_type(resources_of_type):
    assignments = resources_of_type("Microsoft.Authorization/roleAssignments",
                                    commandsQueueSenderPrincipalIds=["00000000-0000-0000-0000-0000000000b1"])
    assert assignments
    for assignment in assignments:
        assert assignment.properties.get("principalType") in ("ServicePrincipal", "User", "Group"), assignment.body


def test_no_flex_consumption_deprecated_setting_is_written(app_settings):
    # On Flex the runtime lives in functionAppConfig and deployments are "one deploy".
    deprecated = {
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTSHARE",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "ENABLE_ORYX_BUILD",
        "AzureWebJobsStorage",
    }
    assert not deprecated & app_settings.keys()


# --- Monitoring ------------------------------------------------------------------------


def test_application_insights_is_workspace_based_and_entra_only(resources_of_type):
    # Azure.AppInsights.Workspace, Azure.AppInsights.LocalAuth
    insights = one(resources_of_type, "Microsoft.Insights/components").properties
    assert insights["DisableLocalAuth"] is True
    assert insights["WorkspaceResourceId"] == Unknown("logAnalytics.id")
    workspace = one(resources_of_type, "Microsoft.OperationalInsights/workspaces").properties
    assert workspace["features"]["disableLocalAuth"] is True


# --- Across resources ------------------------------------------------------------------


def test_only_diagnostic_settings_use_a_preview_api_version(deployed_resources):
    # Microsoft.Insights/diagnosticSettings has no GA API version; everything else is stable.
    preview = {r.type for r in deployed_resources() if "preview" in (r.declaration.api_version or "")}
    assert preview <= {"Microsoft.Insights/diagnosticSettings"}


def test_every_resource_is_tagged_with_the_environment(deployed_resources):
    tagged = [r for r in deployed_resources(environmentName="blue") if "location" in r.body]
    assert tagged
    for resource in tagged:
        assert resource.body["tags"]["azd-env-name"] == "blue", resource.type


def test_resource_names_stay_within_azure_limits(deployed_resources):
    # With the 13-character uniqueString() token in place of each placeholder.
    limits = {
        "Microsoft.Storage/storageAccounts": 24,
        "Microsoft.Web/sites": 60,
        "Microsoft.SignalRService/signalR": 63,
        "Microsoft.Storage/storageAccounts/blobServices/containers": 63,
        "Microsoft.Storage/storageAccounts/queueServices/queues": 63,
    }
    for resource in deployed_resources(commandsQueueName="q" * 55):
        if resource.type in limits:
            name = resource.body["name"]
            length = len(expand_token(name)) if isinstance(name, Partial) else len(name)
            assert length <= limits[resource.type], (resource.type, name)


def expand_token(name: str) -> str:
    """The name with each placeholder replaced by as many characters as it stands for."""
    token = "x" * 13  # toLower(uniqueString(...))
    lengths = {
        "{take(resourceToken, 7)}": 7,
        "{take(functionAppName, 32)}": len("func-" + token),
    }
    for placeholder, length in lengths.items():
        name = name.replace(placeholder, "x" * length)
    name = re.sub(r"\{toLower\(uniqueString\([^}]*\)\)\}", token, name)
    assert "{" not in name, f"unexpected placeholder in {name}"
    return name
