"""The SignalR endpoint settings, with the names Microsoft documents (and the facade's older spellings).

Microsoft's names, first (https://learn.microsoft.com/azure/azure-signalr/signalr-howto-scale-multi-instances,
https://learn.microsoft.com/azure/azure-functions/functions-bindings-signalr-service#identity-based-connections,
https://learn.microsoft.com/azure/azure-functions/functions-reference#common-properties-for-identity-based-connections;
in app settings ``__`` stands for ``:``):

- one instance: ``AzureSignalRConnectionString`` (a connection string), or the identity form
  ``AzureSignalRConnectionString__serviceUri`` with ``__credential`` (``managedidentity``),
  ``__clientId``, ``__managedIdentityResourceId``;
- several: ``Azure__SignalR__Endpoints__<name>`` or ``Azure__SignalR__Endpoints__<name>__<type>``
  (a connection string; type ``primary`` or ``secondary``, any case, default primary), or the
  identity form ``Azure__SignalR__Endpoints__<name>__serviceUri`` with ``__type``, ``__credential``,
  ``__clientId``, ``__managedIdentityResourceId``.

Also read (aliases, the facade's older spellings and the Functions host's local-development settings):
``Azure__SignalR__Endpoints__<name>__<type>__serviceUri`` (and the other identity settings under the
type), ``__tenantId`` with ``__clientSecret``. ``AzureSignalRConnectionString`` is one more primary,
named ``default``.

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
# Identity settings, lower case -> as documented (problems name them so).
IDENTITY_KEYS = {"serviceuri": "serviceUri", "credential": "credential", "clientid": "clientId",
                 "managedidentityresourceid": "managedIdentityResourceId", "tenantid": "tenantId",
                 "clientsecret": "clientSecret"}
TYPE_KEY = "type"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class EndpointType(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


TYPES = frozenset(EndpointType)


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
    client_id = parts.get("clientid") or None
    resource_id = parts.get("managedidentityresourceid") or None
    if credential and credential != "managedidentity":
        raise ConfigurationError(f"{setting}__credential must be managedidentity when set")
    if client_id and resource_id:
        raise ConfigurationError(f"{setting}__clientId and __managedIdentityResourceId name the identity twice: "
                                 "give one")
    if resource_id and not credential:
        raise ConfigurationError(f"{setting}__managedIdentityResourceId needs {setting}__credential=managedidentity")
    if credential:
        auth_type = "azure.msi"
    elif parts.get("clientsecret"):
        if not (client_id and parts.get("tenantid")):
            raise ConfigurationError(f"{setting}__clientSecret needs {setting}__clientId and __tenantId")
        auth_type = "azure.app"
    else:
        auth_type = "azure"  # DefaultAzureCredential, as the host does without a credential setting
    return ConnectionInfo(endpoint=endpoint, auth_type=auth_type, client_id=client_id,
                          tenant_id=parts.get("tenantid") or None, client_secret=parts.get("clientsecret") or None,
                          managed_identity_resource_id=resource_id)


_SETTING = "#setting"


def _split_key(tail: list[str]) -> tuple[str | None, str] | None:
    """(type named in the key, sub-setting) of an endpoint key's tail; "" is the connection string itself."""
    if not tail:
        return None, ""
    if len(tail) == 1:
        if tail[0] in TYPES:
            return tail[0], ""
        return (None, tail[0]) if tail[0] in IDENTITY_KEYS or tail[0] == TYPE_KEY else None
    if len(tail) == 2 and tail[0] in TYPES and tail[1] in IDENTITY_KEYS:
        return tail[0], tail[1]  # the older spelling: the type before the identity settings
    return None


def _group(environ: Mapping[str, str], problems: list[str]) -> dict[str, tuple[str | None, dict[str, str]]]:
    """Endpoint settings by name: the type named in the keys, and the value ("" key) and sub-settings."""
    groups: dict[str, tuple[str | None, dict[str, str]]] = {}
    for key, value in sorted(environ.items()):
        if not key.lower().startswith(PREFIX.lower()) or not value.strip():
            continue
        rest = key[len(PREFIX):].split("__")
        name = rest[0]
        if not _NAME.fullmatch(name):
            problems.append(f"{key}: an endpoint name is letters, digits, '-' or '_' (at most 64)")
            continue
        split = _split_key([p.lower() for p in rest[1:]])
        if split is None:
            problems.append(f"{key}: not an endpoint setting (a connection string, optionally under primary or "
                            "secondary; or serviceUri, type, credential, clientId, managedIdentityResourceId)")
            continue
        kind, sub = split
        known, parts = groups.setdefault(name.lower(), (kind, {}))
        if kind and known and kind != known:
            problems.append(f"{key}: endpoint '{name.lower()}' is given as both {known} and {kind}")
            continue
        parts = {**parts, sub: value.strip()}
        if not sub:  # the setting as written (type optional), so a problem names what the operator set
            parts[_SETTING] = key
        groups[name.lower()] = (known or kind, parts)
    return groups


def _main_identity(environ: Mapping[str, str], problems: list[str]) -> dict[str, str]:
    """``AzureSignalRConnectionString__serviceUri`` and its credential settings (the one-instance identity form)."""
    parts: dict[str, str] = {}
    prefix = (MAIN_SETTING + "__").lower()
    for key, value in environ.items():
        if not key.lower().startswith(prefix) or not value.strip():
            continue
        sub = key[len(prefix):].lower()
        if sub not in IDENTITY_KEYS:
            problems.append(f"{key}: not a SignalR identity setting (serviceUri, credential, clientId, "
                            "managedIdentityResourceId)")
            continue
        parts[sub] = value.strip()
    return parts


def _endpoint(setting: str, parts: Mapping[str, str]) -> ConnectionInfo:
    if "" in parts and "serviceuri" in parts:
        raise ConfigurationError(f"{setting}: give a connection string or __serviceUri, not both")
    if "" in parts:
        extra = sorted(set(parts) - {"", TYPE_KEY})
        if extra:
            raise ConfigurationError(f"{setting}__{IDENTITY_KEYS[extra[0]]} applies only to the __serviceUri form")
        return parse_connection_string(parts[""], setting)
    if "serviceuri" in parts:
        return _identity_info(setting, parts)
    raise ConfigurationError(f"{setting}: a connection string or __serviceUri is required")


def _type(setting: str, in_key: str | None, parts: Mapping[str, str]) -> EndpointType:
    given = parts.get(TYPE_KEY, "").strip().lower() or None
    if given is not None and given not in TYPES:
        raise ConfigurationError(f"{setting}__type must be primary or secondary")
    if in_key and given and in_key != given:
        raise ConfigurationError(f"{setting}__type contradicts the type in the setting's name")
    return EndpointType(in_key or given or EndpointType.PRIMARY)


def read_endpoints(environ: Mapping[str, str]) -> tuple[tuple[EndpointConfig, ...], tuple[str, ...]]:
    """Every configured endpoint (``default`` first) and the problems met, each naming its setting."""
    problems: list[str] = []
    endpoints: list[EndpointConfig] = []
    main = (environ.get(MAIN_SETTING) or "").strip()
    identity = _main_identity(environ, problems)
    if main and identity:
        problems.append(f"{MAIN_SETTING}: give a connection string or {MAIN_SETTING}__serviceUri, not both")
    elif main:
        try:
            endpoints.append(EndpointConfig(DEFAULT_NAME, EndpointType.PRIMARY, parse_connection_string(main),
                                            MAIN_SETTING))
        except ConfigurationError:
            pass  # Settings.problems() reports the main string as before
    elif identity:
        try:
            endpoints.append(EndpointConfig(DEFAULT_NAME, EndpointType.PRIMARY,
                                            _endpoint(MAIN_SETTING, identity), MAIN_SETTING))
        except ConfigurationError as e:
            problems.append(e.detail)
    for name, (in_key, parts) in sorted(_group(environ, problems).items()):
        setting = parts.pop(_SETTING, None) or f"{PREFIX}{name}" + (f"__{in_key}" if in_key else "")
        try:
            kind = _type(setting, in_key, parts)
            info = _endpoint(setting, parts)
        except ConfigurationError as e:
            detail = e.detail if e.detail.startswith(setting) else f"{setting}: {e.detail}"
            problems.append(detail.replace("AzureSignalRConnectionString is not set", "empty"))
            continue
        endpoints.append(EndpointConfig(name, kind, info, setting))
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
