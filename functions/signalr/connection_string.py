"""Parse ``AzureSignalRConnectionString`` with the official SDKs' rules.

Errors name the offending key, never its value: the string carries an access key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ConfigurationError

_VERSION = re.compile(r"^1\.\d+(?:[\w\-.]+)?$")
AUTH_TYPES = frozenset({"azure", "azure.msi", "azure.app", "aad"})


@dataclass(frozen=True)
class ConnectionInfo:
    """What a connection string says about the service and how to authenticate to it."""

    endpoint: str  # scheme://host[:port], no trailing slash, Port applied
    access_key: str | None = None
    auth_type: str | None = None
    client_id: str | None = None
    tenant_id: str | None = None
    client_secret: str | None = None
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

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"ConnectionInfo(endpoint={self.endpoint!r}, auth_type={self.auth_type!r})"


def _absolute_url(key: str, value: str) -> tuple[str, str, int | None]:
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"connection string: {key} must be an absolute http(s) URL")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"connection string: {key} has an invalid port") from None
    return parts.scheme.lower(), parts.hostname, port


def _with_port(scheme: str, host: str, port: int | None) -> str:
    host_part = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host_part}" + (f":{port}" if port else "")


def _parse_port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
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
            raise ConfigurationError(f"connection string: duplicate key {key!r}")
        pairs[key] = value.strip()
    return pairs


def parse_connection_string(text: str | None) -> ConnectionInfo:
    """Parse and check a SignalR connection string; raise ConfigurationError naming the key."""
    if not text or not text.strip():
        raise ConfigurationError("AzureSignalRConnectionString is not set")
    pairs = split_pairs(text)
    if not pairs.get("endpoint"):
        raise ConfigurationError("connection string: Endpoint is required")
    port = _parse_port(pairs["port"]) if "port" in pairs else None
    endpoint = _normalise_url("Endpoint", pairs["endpoint"], port)

    version = pairs.get("version", "1.0")
    if not _VERSION.match(version):
        raise ConfigurationError("connection string: Version must look like 1.x")

    auth_type = pairs.get("authtype", "").lower() or None
    if auth_type is not None and auth_type not in AUTH_TYPES:
        raise ConfigurationError("connection string: AuthType must be azure, azure.msi or azure.app")
    access_key = pairs.get("accesskey") or None
    if auth_type is None and not access_key:
        raise ConfigurationError("connection string: AccessKey is required when AuthType is not given")
    if auth_type == "azure.app" and not all(pairs.get(k) for k in ("clientid", "tenantid", "clientsecret")):
        raise ConfigurationError("connection string: AuthType=azure.app needs ClientId, TenantId and ClientSecret")

    return ConnectionInfo(
        endpoint=endpoint,
        access_key=access_key if auth_type is None else None,
        auth_type=auth_type,
        client_id=pairs.get("clientid") or None,
        tenant_id=pairs.get("tenantid") or None,
        client_secret=pairs.get("clientsecret") or None,
        version=version,
        client_endpoint=_normalise_url("ClientEndpoint", pairs["clientendpoint"])
        if pairs.get("clientendpoint") else None,
        server_endpoint=_normalise_url("ServerEndpoint", pairs["serverendpoint"])
        if pairs.get("serverendpoint") else None,
    )
