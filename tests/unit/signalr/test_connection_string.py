from __future__ import annotations

import pytest

from functions.core.errors import ConfigurationError
from functions.signalr.connection_string import parse_connection_string

KEY = "s3cr3t-KEY-value-that-must-never-leak-000000"


def test_access_key_string_is_parsed_with_port_applied():
    info = parse_connection_string(f"Endpoint=http://127.0.0.1;Port=8888;AccessKey={KEY};Version=1.0;")
    assert info.endpoint == "http://127.0.0.1:8888"
    assert info.access_key == KEY
    assert info.auth_type is None
    assert info.server_url == info.client_url == "http://127.0.0.1:8888"


def test_keys_are_case_insensitive_trimmed_and_empty_parts_dropped():
    info = parse_connection_string(f" endpoint = https://x.service.signalr.net/ ;;ACCESSKEY={KEY}; version=1.0")
    assert info.endpoint == "https://x.service.signalr.net"
    assert info.access_key == KEY


def test_parts_without_equals_are_ignored():
    info = parse_connection_string(f"Endpoint=https://x.service.signalr.net;junk;AccessKey={KEY}")
    assert info.endpoint == "https://x.service.signalr.net"


def test_managed_identity_with_client_id():
    info = parse_connection_string("Endpoint=https://x.service.signalr.net;AuthType=azure.msi;ClientId=abc;Version=1.0;")
    assert info.auth_type == "azure.msi"
    assert info.client_id == "abc"
    assert info.access_key is None


def test_client_and_server_endpoints_override_the_endpoint():
    info = parse_connection_string(
        f"Endpoint=https://x.service.signalr.net;AccessKey={KEY};"
        "ClientEndpoint=https://clients.example.com/;ServerEndpoint=http://10.0.0.4:8080"
    )
    assert info.client_url == "https://clients.example.com"
    assert info.server_url == "http://10.0.0.4:8080"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", "not set"),
        (f"AccessKey={KEY}", "Endpoint"),
        (f"Endpoint=ftp://x;AccessKey={KEY}", "Endpoint"),
        (f"Endpoint=x.service.signalr.net;AccessKey={KEY}", "Endpoint"),
        (f"Endpoint=https://x;AccessKey={KEY};endpoint=https://y", "duplicate"),
        (f"Endpoint=https://x;AccessKey={KEY};Port=0", "Port"),
        (f"Endpoint=https://x;AccessKey={KEY};Port=65536", "Port"),
        (f"Endpoint=https://x;AccessKey={KEY};Port=80a", "Port"),
        (f"Endpoint=https://x;AccessKey={KEY};Version=2.0", "Version"),
        ("Endpoint=https://x;Version=1.0", "AccessKey"),
        (f"Endpoint=https://x;AccessKey={KEY};AuthType=kerberos", "AuthType"),
        ("Endpoint=https://x;AuthType=azure.app;ClientId=a", "ClientSecret"),
        (f"Endpoint=https://x;AccessKey={KEY};ClientEndpoint=nope", "ClientEndpoint"),
    ],
)
def test_bad_strings_name_the_key_and_never_the_secret(text, names):
    with pytest.raises(ConfigurationError) as caught:
        parse_connection_string(text)
    assert names in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)


def test_version_suffixes_are_accepted():
    assert parse_connection_string(f"Endpoint=https://x;AccessKey={KEY};Version=1.0-preview").version == "1.0-preview"


def test_repr_hides_the_key():
    info = parse_connection_string(f"Endpoint=https://x;AccessKey={KEY}")
    assert KEY not in repr(info)


@pytest.mark.parametrize("text", [f"AccessKey={KEY}", f"Endpoint=https://x;AccessKey={KEY};Port=0",
                                  "Endpoint=https://x;Version=1.0"])
def test_a_malformed_string_is_reported_under_its_settings_name(text):
    """Issue 22, item 7: the problem said "connection string", not which setting to fix."""
    from functions.core.settings import Settings

    for setting in ("AzureSignalRConnectionString", "Azure__SignalR__Endpoints__east",
                    "Azure__SignalR__Endpoints__west__secondary"):
        env = {setting: text}
        if setting != "AzureSignalRConnectionString":
            env["AzureSignalRConnectionString"] = f"Endpoint=https://ok.example;AccessKey={KEY}"
        problems = Settings.from_environ(env).problems()
        assert [p for p in problems if p.startswith(f"{setting}: ")], problems
        assert "connection string" not in " ".join(problems)
        assert KEY not in " ".join(problems)
