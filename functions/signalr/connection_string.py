"""Parse ``AzureSignalRConnectionString`` with the official SDKs' rules.

Errors name the offending key, never its value: the string carries an access key.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from functions.core.errors import ConfigurationError

_VERSION = re.compile(r"1\.[0-9]+[A-Za-z0-9_\-.]*", re.ASCII)
_PORT = re.compile(r"[0-9]{1,5}")
# A DNS name (letters, digits, hyphens, dots) or an IPv4 address; IPv6 literals are checked apart.
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?")
AUTH_TYPES = frozenset({"azure", "azure.msi", "azure.app", "aad"})
# Keys the official parsers know. Only these are ever named in an error: a part of a secret
# holding "=" (e.g. a mangled AccessKey) would otherwise turn into a "key" in a log line.
KNOWN_KEYS = frozenset({"endpoint", "accesskey", "authtype", "clientid", "tenantid", "clientsecret", "clientcert",
                        "version", "port", "clientendpoint", "serverendpoint"})


@dataclass(frozen=True)
class ConnectionInfo:
    """What a connection string says about the service and how to authenticate to it."""

    endpoint: str  # scheme://host[:port], no trailing slash, Port applied
    access_key: str | None = None
    auth_type: str | None = None
    client_id: str | None = None
    tenant_id: str | None = None
    client_secret: str | None = None
    client_cert: str | None = None  # ClientCert: the path of the app's certificate file (PEM or PKCS#12)
    # A user-assigned managed identity by its resource id (the identity settings' managedIdentityResourceId).
    managed_identity_resource_id: str | None = None
    version: str = "1.0"
    client_endpoint: str | None = None
    server_endpoint: str | None = None

    @property
    def server_url(self) -> str:
        """Base URL for REST calls."""
        return self.server_endpoint or self.endpoint

    @property
    def client_url(self) -> str:
        """Base URL clients negotiate with."""
        return self.client_endpoint or self.endpoint

    @property
    def audience_base(self) -> str:
        """``scheme://host`` of ``Endpoint``: no port, no path, whatever ``ServerEndpoint`` or
        ``ClientEndpoint`` say. Every token's ``aud`` starts with it, as the SDK builds it
        (Azure/azure-signalr src/Microsoft.Azure.SignalR.Common/Endpoints/ServiceEndpoint.cs,
        ``AudienceBaseUrl``); requests still go to ``server_url``, clients to ``client_url``."""
        parts = urlsplit(self.endpoint)
        host = parts.hostname or ""
        return f"{parts.scheme}://[{host}]" if ":" in host else f"{parts.scheme}://{host}"

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"ConnectionInfo(endpoint={self.endpoint!r}, auth_type={self.auth_type!r})"


def _is_host(host: str) -> bool:
    if ":" in host:  # an IPv6 literal (urlsplit took it from between brackets)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return bool(_HOSTNAME.fullmatch(host)) and ".." not in host


def _absolute_url(key: str, value: str) -> tuple[str, str, int | None]:
    not_a_url = ConfigurationError(f"connection string: {key} must be an absolute http(s) URL")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed "[" of an IPv6 literal
        raise not_a_url from None
    if parts.scheme.lower() not in ("http", "https") or not hostname or not _is_host(hostname):
        raise not_a_url
    if parts.query or parts.fragment or parts.username is not None:
        raise ConfigurationError(f"connection string: {key} must have no user, query or fragment")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"connection string: {key} has an invalid port") from None
    return parts.scheme.lower(), hostname, port


def _with_port(scheme: str, host: str, port: int | None) -> str:
    host_part = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host_part}" + (f":{port}" if port else "")


def _parse_port(value: str) -> int:
    # ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
    if not _PORT.fullmatch(value) or not 1 <= int(value) <= 65535:
        raise ConfigurationError("connection string: Port must be an integer from 1 to 65535")
    return int(value)


def _normalise_url(key: str, value: str, port_override: int | None = None) -> str:
    scheme, host, port = _absolute_url(key, value.rstrip("/"))
    path = urlsplit(value.rstrip("/")).path
    return _with_port(scheme, host, port_override or port) + path


def split_pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in text.split(";"):
        if "=" not in part:
            continue  # the official parser ignores parts without '=' (and empty ones)
        key, value = part.split("=", 1)
        key = key.strip().lower()
        if key in pairs:
            named = f" {key!r}" if key in KNOWN_KEYS else ""
            raise ConfigurationError(f"connection string: duplicate key{named}")
        pairs[key] = value.strip()
    return pairs


def _check_app_credential(auth_type: str | None, pairs: dict[str, str]) -> None:
    """An application identity needs ClientId, TenantId and exactly one of ClientSecret and ClientCert.

    The SDK's parser (Azure/azure-signalr src/Microsoft.Azure.SignalR.Common/Utilities/ConnectionStringParser.cs)
    takes ``ClientCert`` as the path of a certificate file and refuses a path that is no file. Either
    the certificate is used, or the string is a settings problem: never another credential in its place.
    """
    secret, cert = pairs.get("clientsecret"), pairs.get("clientcert")
    app = auth_type == "azure.app" or (auth_type == "aad" and pairs.get("clientid") and (secret or cert))
    if not app:
        if cert:
            raise ConfigurationError("connection string: ClientCert needs AuthType=azure.app, ClientId and TenantId")
        return
    if not (pairs.get("clientid") and pairs.get("tenantid")) or not (secret or cert):
        raise ConfigurationError(f"connection string: AuthType={auth_type} needs ClientId, TenantId and "
                                 "ClientSecret or ClientCert")
    if secret and cert:
        raise ConfigurationError("connection string: give ClientSecret or ClientCert, not both")
    if cert and not os.path.isfile(cert):
        raise ConfigurationError("connection string: ClientCert must be the path of a certificate file")


MAIN_SETTING = "AzureSignalRConnectionString"
_UNNAMED = "connection string"  # what the checks below call it; the setting's name replaces it


def parse_connection_string(text: str | None, setting: str = MAIN_SETTING) -> ConnectionInfo:
    """Parse and check a SignalR connection string; raise ConfigurationError naming the setting
    it came from (``AzureSignalRConnectionString``, ``Azure__SignalR__Endpoints__east`` ...) and the key."""
    if not text or not text.strip():
        raise ConfigurationError(f"{setting} is not set")
    try:
        return _parse(text)
    except ConfigurationError as e:
        raise ConfigurationError(e.detail.replace(_UNNAMED, setting, 1)) from None


def _parse(text: str) -> ConnectionInfo:
    pairs = split_pairs(text)
    if not pairs.get("endpoint"):
        raise ConfigurationError("connection string: Endpoint is required")
    port = _parse_port(pairs["port"]) if "port" in pairs else None
    endpoint = _normalise_url("Endpoint", pairs["endpoint"], port)

    version = pairs.get("version", "1.0")
    if not _VERSION.fullmatch(version):
        raise ConfigurationError("connection string: Version must look like 1.x")

    auth_type = pairs.get("authtype", "").lower() or None
    if auth_type is not None and auth_type not in AUTH_TYPES:
        raise ConfigurationError("connection string: AuthType must be azure, azure.msi or azure.app")
    access_key = pairs.get("accesskey") or None
    if auth_type is None and not access_key:
        raise ConfigurationError("connection string: AccessKey is required when AuthType is not given")
    _check_app_credential(auth_type, pairs)

    return ConnectionInfo(
        endpoint=endpoint,
        access_key=access_key if auth_type is None else None,
        auth_type=auth_type,
        client_id=pairs.get("clientid") or None,
        tenant_id=pairs.get("tenantid") or None,
        client_secret=pairs.get("clientsecret") or None,
        client_cert=pairs.get("clientcert") or None,
        version=version,
        client_endpoint=_normalise_url("ClientEndpoint", pairs["clientendpoint"])
        if pairs.get("clientendpoint") else None,
        server_endpoint=_normalise_url("ServerEndpoint", pairs["serverendpoint"])
        if pairs.get("serverendpoint") else None,
    )
