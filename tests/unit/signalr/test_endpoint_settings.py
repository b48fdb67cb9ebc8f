"""Endpoint settings: the official names, identity forms, problems named by setting, never by value."""

from __future__ import annotations

import json

from functions.core.settings import Settings
from functions.signalr.endpoints import EndpointType

MAIN = "Endpoint=https://main.service.signalr.net;AccessKey=mainsecret;Version=1.0;"
WEST = "Endpoint=https://west.service.signalr.net;AccessKey=westsecret;Version=1.0;"


def read(**env: str) -> Settings:
    return Settings.from_environ(env)


def test_the_main_string_is_the_default_primary_and_named_endpoints_carry_their_type():
    settings = read(AzureSignalRConnectionString=MAIN, Azure__SignalR__Endpoints__west__secondary=WEST,
                    Azure__SignalR__Endpoints__north=WEST.replace("west", "north"))
    got = [(e.name, e.type, e.info.endpoint) for e in settings.signalr_endpoints]
    assert got == [("default", EndpointType.PRIMARY, "https://main.service.signalr.net"),
                   ("north", EndpointType.PRIMARY, "https://north.service.signalr.net"),
                   ("west", EndpointType.SECONDARY, "https://west.service.signalr.net")]
    assert settings.read_problems == ()


def test_the_identity_form_reads_service_uri_and_the_credential_settings():
    settings = read(Azure__SignalR__Endpoints__east__Primary__serviceUri="https://east.service.signalr.net/",
                    Azure__SignalR__Endpoints__east__Primary__credential="managedidentity",
                    Azure__SignalR__Endpoints__east__Primary__clientId="11111111-1111-1111-1111-111111111111")
    [east] = settings.signalr_endpoints
    assert (east.info.endpoint, east.info.auth_type, east.info.client_id) == (
        "https://east.service.signalr.net", "azure.msi", "11111111-1111-1111-1111-111111111111")
    assert east.info.access_key is None
    assert "AzureSignalRConnectionString" not in " ".join(settings.problems())  # optional with named ones


def test_bad_and_conflicting_endpoint_settings_are_named_never_quoted():
    settings = read(
        AzureSignalRConnectionString=MAIN,
        Azure__SignalR__Endpoints__copy__primary=MAIN.replace("mainsecret", "othersecret"),
        Azure__SignalR__Endpoints__west__tertiary=WEST,
        Azure__SignalR__Endpoints__broken__secondary="Endpoint=https://b;Port=99999;AccessKey=brokensecret",
        Azure__SignalR__Endpoints__both__primary=WEST,
        Azure__SignalR__Endpoints__both__primary__serviceUri="https://both.service.signalr.net",
        Azure__SignalR__Endpoints__odd__primary__credential="password",
        **{"Azure__SignalR__Endpoints__bad name__primary": WEST},
    )
    text = json.dumps(settings.problems())
    for setting in ("Azure__SignalR__Endpoints__copy__primary and AzureSignalRConnectionString",
                    "Azure__SignalR__Endpoints__west__tertiary", "Azure__SignalR__Endpoints__broken__secondary",
                    "Azure__SignalR__Endpoints__both__primary", "Azure__SignalR__Endpoints__odd__primary",
                    "Azure__SignalR__Endpoints__bad name__primary"):
        assert setting in text
    for secret in ("mainsecret", "othersecret", "westsecret", "brokensecret", "password"):
        assert secret not in text
    assert len(settings.read_problems) == 6


def test_one_endpoint_keeps_the_plain_client_without_threads():
    import threading

    from functions.core.facade import Facade
    from functions.signalr.client import SignalRClient

    before = threading.active_count()
    facade = Facade(read(Azure__SignalR__Endpoints__only__primary=WEST))
    assert type(facade.client) is SignalRClient
    assert facade.client.info.endpoint == "https://west.service.signalr.net"
    assert threading.active_count() == before


# -- the names as Microsoft documents them (issue 23 item 4) ----------------------------------------------

EAST_URI = "https://east.service.signalr.net"
CLIENT_ID = "11111111-1111-1111-1111-111111111111"
RESOURCE_ID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fx"


def only(settings: Settings):
    assert settings.read_problems == ()
    assert settings.problems() == [] or all("ENTRA" in p for p in settings.problems())
    [endpoint] = settings.signalr_endpoints
    return endpoint


def test_the_documented_identity_form_names_type_credential_and_client_id_after_the_name():
    east = only(read(Azure__SignalR__Endpoints__east__serviceUri=EAST_URI,
                     Azure__SignalR__Endpoints__east__type="Secondary",
                     Azure__SignalR__Endpoints__east__credential="ManagedIdentity",
                     Azure__SignalR__Endpoints__east__clientId=CLIENT_ID))
    assert (east.name, east.type) == ("east", EndpointType.SECONDARY)
    assert (east.info.endpoint, east.info.auth_type, east.info.client_id) == (EAST_URI, "azure.msi", CLIENT_ID)


def test_the_type_defaults_to_primary_and_takes_any_case():
    assert only(read(Azure__SignalR__Endpoints__east__serviceUri=EAST_URI)).type is EndpointType.PRIMARY
    assert only(read(Azure__SignalR__Endpoints__east__serviceUri=EAST_URI,
                     Azure__SignalR__Endpoints__east__type="PRIMARY")).type is EndpointType.PRIMARY


def test_a_user_assigned_identity_by_resource_id():
    east = only(read(Azure__SignalR__Endpoints__east__serviceUri=EAST_URI,
                     Azure__SignalR__Endpoints__east__credential="managedidentity",
                     Azure__SignalR__Endpoints__east__managedIdentityResourceId=RESOURCE_ID))
    assert (east.info.auth_type, east.info.managed_identity_resource_id) == ("azure.msi", RESOURCE_ID)


def test_the_connection_string_forms_with_and_without_a_type():
    plain = only(read(Azure__SignalR__Endpoints__west=WEST))
    typed = only(read(Azure__SignalR__Endpoints__west__Secondary=WEST))
    assert (plain.type, typed.type) == (EndpointType.PRIMARY, EndpointType.SECONDARY)
    assert plain.info.access_key == typed.info.access_key == "westsecret"


def test_the_single_endpoint_identity_form():
    main = only(read(AzureSignalRConnectionString__serviceUri=EAST_URI,
                     AzureSignalRConnectionString__credential="managedidentity",
                     AzureSignalRConnectionString__clientId=CLIENT_ID))
    assert (main.name, main.type, main.setting) == ("default", EndpointType.PRIMARY, "AzureSignalRConnectionString")
    assert (main.info.endpoint, main.info.auth_type, main.info.client_id) == (EAST_URI, "azure.msi", CLIENT_ID)


def test_the_facade_runs_on_the_single_endpoint_identity_form():
    from functions.core.facade import Facade
    from functions.signalr.client import SignalRClient

    facade = Facade(read(AzureSignalRConnectionString__serviceUri=EAST_URI))
    assert type(facade.client) is SignalRClient
    assert facade.client.info.endpoint == EAST_URI


def test_todays_spelling_with_the_type_before_the_identity_settings_stays_an_alias():
    east = only(read(Azure__SignalR__Endpoints__east__secondary__serviceUri=EAST_URI,
                     Azure__SignalR__Endpoints__east__secondary__credential="managedidentity"))
    assert (east.type, east.info.auth_type) == (EndpointType.SECONDARY, "azure.msi")


def test_contradicting_or_unknown_identity_settings_are_named_problems():
    settings = read(Azure__SignalR__Endpoints__a__secondary__serviceUri=EAST_URI,
                    Azure__SignalR__Endpoints__a__type="primary",
                    Azure__SignalR__Endpoints__b__serviceUri=EAST_URI.replace("east", "b"),
                    Azure__SignalR__Endpoints__b__type="tertiary",
                    Azure__SignalR__Endpoints__c__serviceUri=EAST_URI.replace("east", "c"),
                    Azure__SignalR__Endpoints__c__credential="managedidentity",
                    Azure__SignalR__Endpoints__c__clientId=CLIENT_ID,
                    Azure__SignalR__Endpoints__c__managedIdentityResourceId=RESOURCE_ID,
                    AzureSignalRConnectionString=MAIN,
                    AzureSignalRConnectionString__serviceUri=EAST_URI.replace("east", "main"))
    text = " | ".join(settings.read_problems)
    assert "Azure__SignalR__Endpoints__a__secondary__type contradicts" in text
    assert "Azure__SignalR__Endpoints__b__type must be primary or secondary" in text
    assert "Azure__SignalR__Endpoints__c__clientId and __managedIdentityResourceId" in text
    assert "AzureSignalRConnectionString: give a connection string or AzureSignalRConnectionString__serviceUri" in text
    assert "mainsecret" not in text
