"""The app settings the template writes are exactly the ones the code reads, and none is a secret."""

from __future__ import annotations

import re

from functions.core.settings import APP_SETTING_NAMES, COMMANDS_STORAGE_CONNECTION, ENTRA_METADATA_URL
from support.bicep_model import Partial, Unknown, text, walk

# Read by the code for local development only (a dev identity provider); never deployed.
DEV_ONLY_SETTINGS = {ENTRA_METADATA_URL}

# The commands queue connection in identity-based form (how the Functions host resolves it).
COMMANDS_QUEUE_CONNECTION = {
    f"{COMMANDS_STORAGE_CONNECTION}__queueServiceUri",
    f"{COMMANDS_STORAGE_CONNECTION}__credential",
    f"{COMMANDS_STORAGE_CONNECTION}__clientId",
}

# Read by the Functions host and the Application Insights agent, not by our code.
PLATFORM_SETTINGS = {
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
}

APP_IDENTITY_CLIENT_ID = Unknown("identity.outputs.clientId")

SECRET_PATTERNS = re.compile(
    r"AccountKey=|AccessKey=|SharedAccessSignature=|SharedAccessKey=|[?&]sig=|ClientSecret=|Password=",
    re.IGNORECASE,
)
SECRET_NAMES = re.compile(r"(^|_)(KEY|SECRET|PASSWORD|PWD)(_|$)|AccessKey|AccountKey|Secret|Password")
SECRET_FUNCTIONS = re.compile(r"^list[A-Z]\w*$")  # listKeys(), listConnectionStrings(), ...


def test_every_setting_the_code_reads_is_written(app_settings):
    expected = set(APP_SETTING_NAMES) - DEV_ONLY_SETTINGS
    assert not expected - app_settings.keys()


def test_the_dev_only_metadata_url_is_not_written(app_settings):
    assert ENTRA_METADATA_URL not in app_settings


def test_every_setting_written_is_read_by_the_code_or_the_platform(app_settings):
    read = set(APP_SETTING_NAMES) | COMMANDS_QUEUE_CONNECTION | PLATFORM_SETTINGS
    assert not app_settings.keys() - read


def test_the_signalr_connection_string_names_the_app_identity_not_a_key(app_settings):
    connection = app_settings["AzureSignalRConnectionString"]
    assert connection == (
        f"Endpoint={Unknown('signalR.outputs.endpoint')};AuthType=azure.msi;"
        f"ClientId={APP_IDENTITY_CLIENT_ID};Version=1.0;"
    )


def test_the_signalr_endpoint_is_the_https_host_of_the_service(resources_of_type):
    [signalr] = [m for m in resources_of_type("Microsoft.SignalRService/signalR")]
    outputs = signalr.template.file.outputs
    assert text(outputs["endpoint"].value) == "'https://${signalR.properties.hostName}'"


def test_the_commands_queue_connection_is_identity_based(app_settings):
    assert COMMANDS_STORAGE_CONNECTION not in app_settings  # a connection string would hold a key
    assert app_settings[f"{COMMANDS_STORAGE_CONNECTION}__credential"] == "managedidentity"
    assert app_settings[f"{COMMANDS_STORAGE_CONNECTION}__clientId"] == APP_IDENTITY_CLIENT_ID
    uri = app_settings[f"{COMMANDS_STORAGE_CONNECTION}__queueServiceUri"]
    assert re.fullmatch(r"https://st\{[^}]+\}\.queue\.\{environment\(\)\.suffixes\.storage\}", uri)


def test_host_storage_and_telemetry_use_the_app_identity(app_settings):
    assert app_settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert app_settings["AzureWebJobsStorage__clientId"] == APP_IDENTITY_CLIENT_ID
    assert app_settings["AzureWebJobsStorage__accountName"] == Unknown("storage.name")
    assert app_settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        f"ClientId={APP_IDENTITY_CLIENT_ID};Authorization=AAD"
    )
    # Taken from the component itself; its instrumentation key only names it (local auth is off).
    assert app_settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == Unknown(
        "applicationInsights.properties.ConnectionString"
    )


def test_entra_settings_default_to_this_tenant_and_the_api_audiences(app_settings, api_client_id):
    assert app_settings["ENTRA_TENANT_ID"] == Unknown("tenant().tenantId")
    assert app_settings["ENTRA_AUDIENCES"] == f"{api_client_id},api://{api_client_id}"
    assert app_settings["ENTRA_ALLOWED_TENANTS"] == ""
    assert app_settings["ENTRA_ACCEPT_V1_TOKENS"] == "false"
    assert app_settings["SIGNALR_ALLOWED_HUBS"] == ""
    assert app_settings["SIGNALR_COMMANDS_QUEUE"] == "signalr-commands"


def test_upstream_events_go_to_the_events_queue_from_signalrs_identity_only(app_settings):
    assert app_settings["SIGNALR_EVENTS_QUEUE"] == "signalr-events"
    assert app_settings["SIGNALR_UPSTREAM_IDENTITIES"] == Unknown("signalR.outputs.principalId")
    # Signatures need an access key: none is written, so only the identity's tokens are accepted.
    assert "SIGNALR_UPSTREAM_KEYS" not in app_settings
    assert "SIGNALR_UPSTREAM_ACCEPT_SIGNATURES" not in app_settings  # a signature alone is refused


def test_entra_and_hub_settings_follow_the_parameters(resources_of_type):
    tenants = ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"]
    [config] = resources_of_type(
        "Microsoft.Web/sites/config",
        entraTenantId="organizations",
        entraAudiences=["api://signalr-facade"],
        entraAllowedTenants=tenants,
        entraAcceptV1Tokens=True,
        signalRAllowedHubs=["chat", "alerts"],
        commandsQueueName="jobs",
    )
    settings = config.properties
    assert settings["ENTRA_TENANT_ID"] == "organizations"
    assert settings["ENTRA_AUDIENCES"] == "api://signalr-facade"
    assert settings["ENTRA_ALLOWED_TENANTS"] == ",".join(tenants)
    assert settings["ENTRA_ACCEPT_V1_TOKENS"] == "true"
    assert settings["SIGNALR_ALLOWED_HUBS"] == "chat,alerts"
    assert settings["SIGNALR_COMMANDS_QUEUE"] == "jobs"


def test_every_setting_value_is_a_string(app_settings):
    # App settings are strings; a bool or a number would be rejected or rendered as "True".
    for name, value in app_settings.items():
        assert isinstance(value, (str, Unknown)), name


def test_no_setting_holds_a_secret(app_settings):
    for name, value in app_settings.items():
        assert not SECRET_PATTERNS.search(str(value)), name
        assert not SECRET_NAMES.search(name), name


def test_no_output_holds_a_secret(deploy_main, bicep_files):
    main = deploy_main()
    for name, decl in main.file.outputs.items():
        value = main.value(decl.value)
        assert not SECRET_PATTERNS.search(str(value)), name
        assert "ConnectionString" not in text(decl.value), name
    for template_name, template in bicep_files.items():
        for name in template.outputs:
            assert not SECRET_NAMES.search(name), f"{template_name}: output {name}"
            assert "connectionstring" not in name.lower(), f"{template_name}: output {name}"


def test_no_template_calls_listkeys_or_another_list_function(bicep_files):
    for name, template in bicep_files.items():
        for node in walk(template.tree.root_node):
            if node.type == "call_expression":
                function = text(node.child_by_field_name("function")).split(".")[-1]
                assert not SECRET_FUNCTIONS.search(function), f"{name}: {text(node)}"


def test_no_template_takes_a_secure_parameter(bicep_files):
    # Nothing secret goes in, so nothing needs @secure().
    for name, template in bicep_files.items():
        assert not [p for p in template.params.values() if "secure" in p.decorators], name


def test_settings_with_deployment_time_parts_only_reference_identities_and_endpoints(app_settings):
    # Whatever the deployment fills in comes from an identity, an endpoint, or a resource name.
    allowed = re.compile(
        r"identity\.outputs\.clientId|signalR\.outputs\.endpoint|signalR\.outputs\.principalId|storage\.name|"
        r"applicationInsights\.properties\.ConnectionString|tenant\(\)\.tenantId|"
        r"toLower\(uniqueString\(.*\)\)|environment\(\)\.suffixes\.storage"
    )
    for name, value in app_settings.items():
        if isinstance(value, (Partial, Unknown)):
            for placeholder in re.findall(r"\{([^{}]*)\}", str(value)):
                assert allowed.fullmatch(placeholder), (name, placeholder)
