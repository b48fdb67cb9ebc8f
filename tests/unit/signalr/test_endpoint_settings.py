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
