"""What the local host reads from disk: host.json and local.settings.json.

host.json: ``extensions.http.routePrefix`` and ``extensions.queues`` with the Functions
defaults (batchSize 16, newBatchThreshold = vCPUs x batchSize / 2, visibilityTimeout 0,
maxDequeueCount 5, messageEncoding base64, maxPollingInterval 1 minute).

local.settings.json: ``Values`` go into the process environment the way Core Tools does
it: a variable already set to a non-empty value in the environment wins and the file's
value is skipped (Core Tools prints "Skipping '<name>' from local settings as it's already
defined in current environment variables").
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.host.cors import CorsConfigError, CorsPolicy

log = logging.getLogger("devstack.host")

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(\.\d+)?)?$")


class ConfigError(ValueError):
    """Raised when host.json or local.settings.json cannot be used."""


def parse_timespan(value: Any, name: str) -> float:
    """Seconds in a .NET TimeSpan string ("00:01:00", "1.02:03:04.5"); a bare number is milliseconds."""
    if isinstance(value, bool):
        raise ConfigError(f"host.json: {name} must be a TimeSpan such as '00:00:30'")
    if isinstance(value, int | float):
        return float(value) / 1000.0
    found = _TIMESPAN.match(str(value).strip())
    if found is None:
        raise ConfigError(f"host.json: {name} must be a TimeSpan such as '00:00:30', got {value!r}")
    days, hours, minutes, seconds, fraction = found.groups()
    return (
        int(days or 0) * 86400
        + int(hours) * 3600
        + int(minutes) * 60
        + int(seconds or 0)
        + float(fraction or 0)
    )


@dataclass(frozen=True)
class QueueOptions:
    batch_size: int = 16
    new_batch_threshold: int = field(default_factory=lambda: (os.cpu_count() or 1) * 16 // 2)
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: str = "base64"
    max_polling_interval: float = 60.0

    @classmethod
    def from_json(cls, section: dict[str, Any]) -> QueueOptions:
        batch = int(section.get("batchSize", 16))
        if not 1 <= batch <= 32:
            raise ConfigError("host.json: extensions.queues.batchSize must be between 1 and 32")
        threshold = section.get("newBatchThreshold")
        encoding = str(section.get("messageEncoding", "base64")).lower()
        if encoding not in ("base64", "none"):
            raise ConfigError("host.json: extensions.queues.messageEncoding must be 'base64' or 'none'")
        max_dequeue = int(section.get("maxDequeueCount", 5))
        if max_dequeue < 1:
            raise ConfigError("host.json: extensions.queues.maxDequeueCount must be at least 1")
        polling = parse_timespan(section.get("maxPollingInterval", "00:01:00"), "maxPollingInterval")
        if polling < 0.1:
            raise ConfigError("host.json: extensions.queues.maxPollingInterval must be at least 100 ms")
        return cls(
            batch_size=batch,
            new_batch_threshold=(os.cpu_count() or 1) * batch // 2 if threshold is None else int(threshold),
            visibility_timeout=parse_timespan(
                section.get("visibilityTimeout", "00:00:00"), "visibilityTimeout"
            ),
            max_dequeue_count=max_dequeue,
            message_encoding=encoding,
            max_polling_interval=polling,
        )


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)


HOST_OVERRIDE_PREFIX = "AzureFunctionsJobHost__"


def apply_host_overrides(data: dict[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """App settings ``AzureFunctionsJobHost__a__b=value`` override host.json's ``a.b``, as in Azure.

    Keys match case-insensitively (an existing key keeps its spelling); values stay strings,
    which the readers below parse like the real host does.
    """
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if not name.lower().startswith(HOST_OVERRIDE_PREFIX.lower()):
            continue
        path = name[len(HOST_OVERRIDE_PREFIX):].split("__")
        node = data
        for part in path[:-1]:
            key = next((k for k in node if k.lower() == part.lower()), part)
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        leaf = next((k for k in node if k.lower() == path[-1].lower()), path[-1])
        node[leaf] = value
    return data


def read_host_json(app_dir: Path, environ: Mapping[str, str] | None = None) -> HostConfig:
    """HostConfig from ``app_dir/host.json`` and ``AzureFunctionsJobHost__*`` overrides."""
    path = app_dir / "host.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig")) if path.is_file() else {}
    except json.JSONDecodeError as e:
        raise ConfigError(f"host.json is not valid JSON: {e}") from e
    apply_host_overrides(data, environ)
    extensions = data.get("extensions") or {}
    http = extensions.get("http") or {}
    prefix = http.get("routePrefix", "api")
    return HostConfig(
        route_prefix=str("api" if prefix is None else prefix).strip("/"),
        queues=QueueOptions.from_json(extensions.get("queues") or {}),
    )


@dataclass(frozen=True)
class LocalSettings:
    values: dict[str, str]
    local_http_port: int | None = None
    cors: CorsPolicy = CorsPolicy()


def _as_setting(value: Any) -> str:
    # Core Tools reads Values as strings; JSON.NET renders true as "True" and null as "".
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return value if isinstance(value, str) else json.dumps(value)


def read_local_settings(path: Path) -> LocalSettings:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read local settings {path}: {e}") from e
    if data.get("IsEncrypted") is True:
        raise ConfigError(f"{path}: encrypted local settings are not supported by the local host")
    values = {str(k): _as_setting(v) for k, v in (data.get("Values") or {}).items() if k}
    host = data.get("Host") or {}
    port = host.get("LocalHttpPort")
    try:
        cors = CorsPolicy.from_host_settings(host)
    except CorsConfigError as e:
        raise ConfigError(f"{path}: {e}") from e
    return LocalSettings(values=values, local_http_port=int(port) if port else None, cors=cors)


def apply_settings(values: dict[str, str], environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Copy values into the environment unless already set there; returns the skipped names."""
    env = os.environ if environ is None else environ
    skipped = []
    for name, value in values.items():
        if env.get(name):
            log.warning("Skipping '%s' from local settings as it's already defined in the environment.", name)
            skipped.append(name)
        else:
            env[name] = value
    return skipped
