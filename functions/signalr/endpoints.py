"""Several SignalR instances: read the endpoint settings with the official names.

The SignalR SDK and its Functions extension name extra instances
``Azure:SignalR:Endpoints:<name>:<type>`` (environment form ``Azure__SignalR__Endpoints__<name>__<type>``),
type ``primary`` or ``secondary`` (no type: primary), the value a connection string; or, identity
based, ``...__<type>__serviceUri`` with the optional credential settings the Functions host uses
(``__credential`` = ``managedidentity``, ``__clientId``, ``__tenantId``, ``__clientSecret``).
``AzureSignalRConnectionString`` stays valid and is one more primary, named ``default``.
See https://learn.microsoft.com/azure/azure-signalr/signalr-howto-scale-multi-instances and
https://learn.microsoft.com/azure/azure-signalr/signalr-howto-authorize-managed-identity (Azure Functions).

Problems name the setting, never its value (a connection string carries an access key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from functions.core.errors import ConfigurationError
from functions.signalr.connection_string import MAIN_SETTING, ConnectionInfo, _normalise_url, parse_connection_string

PREFIX = "Azure__SignalR__Endpoints__"
DEFAULT_NAME = "default"
MAX_ENDPOINTS = 16
IDENTITY_KEYS = ("serviceuri", "credential", "clientid", "tenantid", "clientsecret")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class EndpointType(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


@dataclass(frozen=True)
class EndpointConfig:
    name: str
    type: EndpointType
    info: ConnectionInfo
    setting: str  # the setting it came from, for problems and logs (never the value)


def _identity_info(setting: str, parts: Mapping[str, str]) -> ConnectionInfo:
    """The identity form as the Functions host reads it: serviceUri plus optional credential settings."""
    endpoint = _normalise_url(f"{setting}__serviceUri", parts["serviceuri"])
    credential = parts.get("credential", "").strip().lower()
    if credential and credential != "managedidentity":
        raise ConfigurationError(f"{setting}__credential must be managedidentity when set")
    if credential:
        auth_type = "azure.msi"
    elif parts.get("clientsecret"):
        if not (parts.get("clientid") and parts.get("tenantid")):
            raise ConfigurationError(f"{setting}__clientSecret needs {setting}__clientId and __tenantId")
        auth_type = "azure.app"
    else:
        auth_type = "azure"  # DefaultAzureCredential, as the host does without a credential setting
    return ConnectionInfo(endpoint=endpoint, auth_type=auth_type, client_id=parts.get("clientid") or None,
                          tenant_id=parts.get("tenantid") or None, client_secret=parts.get("clientsecret") or None)


_SETTING = "#setting"


def _group(environ: Mapping[str, str], problems: list[str]) -> dict[tuple[str, str], dict[str, str]]:
    """Endpoint settings by (name, type), each with its value ("" key) and identity sub-settings."""
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for key, value in environ.items():
        if not key.lower().startswith(PREFIX.lower()) or not value.strip():
            continue
        rest = key[len(PREFIX):].split("__")
        name, tail = rest[0], [p.lower() for p in rest[1:]]
        if not _NAME.fullmatch(name):
            problems.append(f"{key}: an endpoint name is letters, digits, '-' or '_' (at most 64)")
            continue
        kind = tail[0] if tail and tail[0] in (EndpointType.PRIMARY, EndpointType.SECONDARY) else None
        sub = tail[1:] if kind else tail
        if (tail and kind is None and tail[0] not in IDENTITY_KEYS) or len(sub) > 1 or \
                (sub and sub[0] not in IDENTITY_KEYS):
            problems.append(f"{key}: not an endpoint setting (type primary or secondary, then serviceUri, "
                            "credential, clientId, tenantId or clientSecret)")
            continue
        group = groups.setdefault((name.lower(), kind or EndpointType.PRIMARY), {})
        group[sub[0] if sub else ""] = value.strip()
        if not sub:  # the setting as written (type optional), so a problem names what the operator set
            group[_SETTING] = key
    return groups


def read_endpoints(environ: Mapping[str, str]) -> tuple[tuple[EndpointConfig, ...], tuple[str, ...]]:
    """Every configured endpoint (``default`` first) and the problems met, each naming its setting."""
    problems: list[str] = []
    endpoints: list[EndpointConfig] = []
    main = (environ.get(MAIN_SETTING) or "").strip()
    if main:
        try:
            endpoints.append(EndpointConfig(DEFAULT_NAME, EndpointType.PRIMARY, parse_connection_string(main),
                                            MAIN_SETTING))
        except ConfigurationError:
            pass  # Settings.problems() reports the main string as before
    for (name, kind), parts in sorted(_group(environ, problems).items()):
        setting = parts.pop(_SETTING, None) or f"{PREFIX}{name}__{kind}"
        if "" in parts and "serviceuri" in parts:
            problems.append(f"{setting}: give a connection string or __serviceUri, not both")
            continue
        try:
            if "" in parts:
                extra = sorted(set(parts) - {""})
                if extra:
                    raise ConfigurationError(f"{setting}__{extra[0]} applies only to the __serviceUri form")
                info = parse_connection_string(parts[""], setting)
            elif "serviceuri" in parts:
                info = _identity_info(setting, parts)
            else:
                raise ConfigurationError(f"{setting}: a connection string or __serviceUri is required")
        except ConfigurationError as e:
            detail = e.detail if e.detail.startswith(setting) else f"{setting}: {e.detail}"
            problems.append(detail.replace("AzureSignalRConnectionString is not set", "empty"))
            continue
        endpoints.append(EndpointConfig(name, EndpointType(kind), info, setting))
    problems.extend(_conflicts(endpoints))
    if len(endpoints) > MAX_ENDPOINTS:
        problems.append(f"{PREFIX}*: at most {MAX_ENDPOINTS} endpoints")
    return tuple(endpoints), tuple(problems)


def _conflicts(endpoints: list[EndpointConfig]) -> list[str]:
    """Two settings for one instance would send every message twice; one name twice is ambiguous."""
    problems = []
    seen_urls: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for endpoint in endpoints:
        url = endpoint.info.server_url.lower()
        if url in seen_urls:
            problems.append(f"{endpoint.setting} and {seen_urls[url]} name the same SignalR instance")
        seen_urls.setdefault(url, endpoint.setting)
        if endpoint.name in seen_names:
            problems.append(f"{endpoint.setting} and {seen_names[endpoint.name]} use one endpoint name twice")
        seen_names.setdefault(endpoint.name, endpoint.setting)
    return problems
