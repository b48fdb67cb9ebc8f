"""One settings object that reads the environment once, with the names Bicep writes."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from functions.catalog.rules import HUB_NAME, MAX_HUB_LENGTH, digits_value
from functions.core.errors import ConfigurationError
from functions.core.idempotency.config import (
    IDEMPOTENCY_TABLE,
    IDEMPOTENCY_TTL,
    StoreSettings,
    read_store_settings,
)
from functions.signalr.endpoints import EndpointConfig, read_endpoints

# App settings the code reads. infra/bicep writes exactly these (tests hold both sides).
# SignalR itself is configured with Microsoft's names (functions/signalr/endpoints.py reads them all):
# AzureSignalRConnectionString, or AzureSignalRConnectionString__serviceUri (+ __credential, __clientId,
# __managedIdentityResourceId); several instances as Azure__SignalR__Endpoints__<name>[__<type>] or
# Azure__SignalR__Endpoints__<name>__serviceUri (+ __type, __credential, __clientId, __managedIdentityResourceId).
SIGNALR_CONNECTION_STRING = "AzureSignalRConnectionString"
ENTRA_TENANT_ID = "ENTRA_TENANT_ID"
ENTRA_AUDIENCES = "ENTRA_AUDIENCES"
ENTRA_ALLOWED_TENANTS = "ENTRA_ALLOWED_TENANTS"
ENTRA_METADATA_URL = "ENTRA_METADATA_URL"
ENTRA_ACCEPT_V1_TOKENS = "ENTRA_ACCEPT_V1_TOKENS"
SIGNALR_ALLOWED_HUBS = "SIGNALR_ALLOWED_HUBS"
SIGNALR_APPLICATION = "SIGNALR_APPLICATION"
ENTRA_ALLOWED_CLIENT_APPS = "ENTRA_ALLOWED_CLIENT_APPS"
COMMANDS_QUEUE = "SIGNALR_COMMANDS_QUEUE"
# Connection *prefix* of the commands queue binding: either a connection string in this
# setting, or identity-based `SIGNALR_COMMANDS_STORAGE__queueServiceUri` (+ __credential,
# __clientId) as the Functions host resolves them.
COMMANDS_STORAGE_CONNECTION = "SIGNALR_COMMANDS_STORAGE"
# Upstream events (functions/upstream): the queue they go to (same storage connection as the
# commands queue), the SignalR resource identities whose tokens the receiver accepts, and the
# access keys it checks `X-ASRS-Signature` with besides the connection string's own. Once
# identities are listed, a signature alone is refused unless SIGNALR_UPSTREAM_ACCEPT_SIGNATURES
# says both are accepted (a migration from access keys). The keys and the migration switch are
# for access-key deployments only (Bicep deploys with managed identity and writes no key), so
# they are not in APP_SETTING_NAMES.
EVENTS_QUEUE = "SIGNALR_EVENTS_QUEUE"
UPSTREAM_IDENTITIES = "SIGNALR_UPSTREAM_IDENTITIES"
UPSTREAM_KEYS = "SIGNALR_UPSTREAM_KEYS"
UPSTREAM_ACCEPT_SIGNATURES = "SIGNALR_UPSTREAM_ACCEPT_SIGNATURES"
# Batches (functions.core.batch_runner, functions.queue.batch).
BATCH_PARALLELISM = "SIGNALR_BATCH_PARALLELISM"
BATCH_MAX_ATTEMPTS = "SIGNALR_BATCH_MAX_ATTEMPTS"
# Idempotency records (functions/core/idempotency): a table on the commands queue's storage account
# (SIGNALR_COMMANDS_STORAGE, or its identity form with __tableServiceUri), and how long records last:
# IDEMPOTENCY_TABLE, IDEMPOTENCY_TTL (functions/core/idempotency/config.py).
# Commands per second per caller (functions/core/caller_limit.py: a token bucket per caller and
# worker, burst ten seconds' worth and at least one full batch); 0 turns the limit off.
CALLER_LIMIT = "SIGNALR_CALLER_LIMIT"
# Page tokens (functions/core/page_token.py): the secret their seal's key is derived from, and
# the one before it while rotating (both accepted, the first one issues). Optional: unset, the
# key is derived from the connection strings' access keys, else from a secret the workers share in
# the idempotency table (functions.core.idempotency.shared_secret), else it is per worker. Secrets, so
# the template does not write them (set them as Key Vault references); not in APP_SETTING_NAMES.
PAGE_TOKEN_SECRET = "SIGNALR_PAGE_TOKEN_SECRET"
PAGE_TOKEN_SECRET_PREVIOUS = "SIGNALR_PAGE_TOKEN_SECRET_PREVIOUS"

APP_SETTING_NAMES: tuple[str, ...] = (
    SIGNALR_CONNECTION_STRING,
    ENTRA_TENANT_ID,
    ENTRA_AUDIENCES,
    ENTRA_ALLOWED_TENANTS,
    ENTRA_METADATA_URL,
    ENTRA_ACCEPT_V1_TOKENS,
    SIGNALR_ALLOWED_HUBS,
    SIGNALR_APPLICATION,
    ENTRA_ALLOWED_CLIENT_APPS,
    COMMANDS_QUEUE,
    EVENTS_QUEUE,
    UPSTREAM_IDENTITIES,
    BATCH_PARALLELISM,
    BATCH_MAX_ATTEMPTS,
    IDEMPOTENCY_TABLE,
    IDEMPOTENCY_TTL,
    CALLER_LIMIT,
)

DEFAULT_COMMANDS_QUEUE = "signalr-commands"
DEFAULT_EVENTS_QUEUE = "signalr-events"
# 16 requests in flight keep a 20 ms round trip busy at ~800 items/s and stay within the
# session's pool of 32 connections and one worker's share of the service's rate limits.
DEFAULT_BATCH_PARALLELISM = 16
DEFAULT_BATCH_MAX_ATTEMPTS = 5  # as host.json's maxDequeueCount for single-command messages
DEFAULT_CALLER_LIMIT = 100  # commands per second per caller (functions/core/caller_limit.py)
MAX_CALLER_LIMIT = 100_000
MULTI_TENANT_IDS = frozenset({"organizations", "common"})


# The tenant namespace (multi-tenant) adds "_t" + 32 hex digits, and a hub at least "_x": the combined
# name must still be a hub name the service takes (128 at most).
MAX_MULTI_TENANT_APPLICATION = MAX_HUB_LENGTH - 35
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _flag(name: str, value: str | None, problems: list[str]) -> bool:
    """A boolean setting; a malformed one is a problem (named, never quoted) and reads as false."""
    text = (value or "false").strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text not in ("0", "false", "no", ""):
        problems.append(f"{name} must be true or false")
    return False


def _bounded_int(name: str, value: str | None, default: int, low: int, high: int, problems: list[str]) -> int:
    """A whole-number setting; a malformed one is a problem (named, never quoted) and reads as the default."""
    text = (value or "").strip()
    if not text:
        return default
    number = digits_value(text)  # length-checked before conversion
    if number is None or not low <= number <= high:
        problems.append(f"{name} must be a whole number from {low} to {high}")
        return default
    return number


def _namespace_problems(application: str | None, hubs: tuple[str, ...]) -> list[str]:
    """Settings under which two apps on one SignalR instance could name the same service hub.

    The service names a hub ``<application>_<hub>``, so ``app`` + ``foo_chat`` and ``app_foo`` +
    ``chat`` are one hub: each app would receive the other's client events and reach its clients.
    The prefix is unambiguous only when neither side can hold the separator. (Multi-tenant
    namespaces, ``t`` + 32 hex digits, hold none.)
    """
    if application is None:
        return []
    problems = []
    if "_" in application:
        problems.append(f"{SIGNALR_APPLICATION} must not contain '_': '<application>_<hub>' could then be "
                        "another application's hub")
    if any("_" in hub for hub in hubs):
        problems.append(f"{SIGNALR_ALLOWED_HUBS} must not name a hub containing '_' when {SIGNALR_APPLICATION} "
                        "is set: '<application>_<hub>' could then be another application's hub")
    return problems


@dataclass(frozen=True)
class Settings:
    """The facade's configuration. Values are read as given; ``problems()`` says what is wrong."""

    signalr_connection_string: str | None = None
    entra_tenant_id: str | None = None
    entra_audiences: tuple[str, ...] = ()
    entra_allowed_tenants: tuple[str, ...] = ()
    entra_metadata_url: str | None = None
    entra_accept_v1_tokens: bool = False
    allowed_hubs: frozenset[str] | None = None
    batch_parallelism: int = DEFAULT_BATCH_PARALLELISM
    batch_max_attempts: int = DEFAULT_BATCH_MAX_ATTEMPTS
    caller_limit: int = DEFAULT_CALLER_LIMIT  # commands per second per caller and worker; 0: no limit
    application: str | None = None  # SignalR's `application` prefix: several apps share one instance
    allowed_client_apps: frozenset[str] | None = None  # `azp`/`appid` allow-list; None: any client app
    upstream_identities: frozenset[str] = frozenset()  # app/object ids; empty: no token is accepted
    upstream_keys: tuple[str, ...] = ()  # extra signature keys (rotation); never logged
    # SIGNALR_PAGE_TOKEN_SECRET then SIGNALR_PAGE_TOKEN_SECRET_PREVIOUS, the set ones; never shown.
    page_token_secrets: tuple[str, ...] = field(default=(), repr=False)
    # With upstream_identities set, also accept a signature alone (during a migration to identity).
    upstream_accept_signatures: bool = False
    # Every SignalR instance (functions.signalr.endpoints): AzureSignalRConnectionString as
    # "default" plus Azure__SignalR__Endpoints__<name>__<type>; their problems are read_problems.
    signalr_endpoints: tuple[EndpointConfig, ...] = ()
    # Malformed values met while reading, by setting name (never by value). Reading never raises:
    # /api/health must be able to report every problem, and requests then fail closed.
    read_problems: tuple[str, ...] = ()
    idempotency: StoreSettings = StoreSettings()
    commands_queue: str = DEFAULT_COMMANDS_QUEUE  # the queue's name scopes its commands' idempotency keys

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []
        hubs = _split(env.get(SIGNALR_ALLOWED_HUBS))
        application = (env.get(SIGNALR_APPLICATION) or "").strip() or None
        # The `application` parameter's rule in the dated swaggers (the same as the hub's).
        if application is not None and not HUB_NAME.fullmatch(application):
            problems.append(f"{SIGNALR_APPLICATION} must start with a letter and hold only letters, digits or "
                            f"_`,.[] (at most {MAX_HUB_LENGTH})")
        elif application is not None and (env.get(ENTRA_TENANT_ID) or "").strip().lower() in MULTI_TENANT_IDS \
                and len(application) > MAX_MULTI_TENANT_APPLICATION:
            problems.append(f"{SIGNALR_APPLICATION} must be at most {MAX_MULTI_TENANT_APPLICATION} characters in "
                            "multi-tenant mode (the tenant namespace and the hub follow it in one hub name)")
        problems.extend(_namespace_problems(application, hubs))
        client_apps = frozenset(a.lower() for a in _split(env.get(ENTRA_ALLOWED_CLIENT_APPS)))
        if any(not is_guid(a) for a in client_apps):
            problems.append(f"{ENTRA_ALLOWED_CLIENT_APPS} must list application (client) ids")
        identities = frozenset(i.lower() for i in _split(env.get(UPSTREAM_IDENTITIES)))
        if any(not is_guid(i) for i in identities):
            problems.append(f"{UPSTREAM_IDENTITIES} must list application or object ids")
        endpoints, endpoint_problems = read_endpoints(env)
        problems.extend(endpoint_problems)
        idempotency = read_store_settings(env, COMMANDS_STORAGE_CONNECTION, problems,
                                          table_text=env.get(IDEMPOTENCY_TABLE), ttl_text=env.get(IDEMPOTENCY_TTL))
        return cls(
            signalr_endpoints=endpoints,
            signalr_connection_string=env.get(SIGNALR_CONNECTION_STRING) or None,
            entra_tenant_id=(env.get(ENTRA_TENANT_ID) or "").strip() or None,
            entra_audiences=_split(env.get(ENTRA_AUDIENCES)),
            entra_allowed_tenants=tuple(t.lower() for t in _split(env.get(ENTRA_ALLOWED_TENANTS))),
            entra_metadata_url=(env.get(ENTRA_METADATA_URL) or "").strip() or None,
            entra_accept_v1_tokens=_flag(ENTRA_ACCEPT_V1_TOKENS, env.get(ENTRA_ACCEPT_V1_TOKENS), problems),
            # Hub names are case-insensitive upstream, so the allow-list is too.
            allowed_hubs=frozenset(h.lower() for h in hubs) if hubs else None,
            batch_parallelism=_bounded_int(BATCH_PARALLELISM, env.get(BATCH_PARALLELISM),
                                           DEFAULT_BATCH_PARALLELISM, 1, 32, problems),
            batch_max_attempts=_bounded_int(BATCH_MAX_ATTEMPTS, env.get(BATCH_MAX_ATTEMPTS),
                                            DEFAULT_BATCH_MAX_ATTEMPTS, 1, 100, problems),
            caller_limit=_bounded_int(CALLER_LIMIT, env.get(CALLER_LIMIT), DEFAULT_CALLER_LIMIT, 0, MAX_CALLER_LIMIT,
                                      problems),
            application=application.lower() if application else None,
            allowed_client_apps=client_apps or None,
            upstream_identities=identities,
            upstream_keys=_split(env.get(UPSTREAM_KEYS)),
            idempotency=idempotency,
            commands_queue=(env.get(COMMANDS_QUEUE) or "").strip() or DEFAULT_COMMANDS_QUEUE,
            page_token_secrets=tuple(
                v for v in (env.get(PAGE_TOKEN_SECRET), env.get(PAGE_TOKEN_SECRET_PREVIOUS)) if v),
            upstream_accept_signatures=_flag(UPSTREAM_ACCEPT_SIGNATURES, env.get(UPSTREAM_ACCEPT_SIGNATURES), problems),
            read_problems=tuple(problems),
        )

    @property
    def is_multi_tenant(self) -> bool:
        return (self.entra_tenant_id or "").lower() in MULTI_TENANT_IDS

    def problems(self) -> list[str]:
        """Every problem with the settings, each naming its setting; empty when the facade can run."""
        from functions.signalr.connection_string import parse_connection_string

        problems = [*self.read_problems, *self.auth_problems()]
        named_only = self.signalr_connection_string is None and self.signalr_endpoints
        try:
            if not named_only:  # with named endpoints the main string is optional
                parse_connection_string(self.signalr_connection_string)
        except ConfigurationError as e:
            problems.append(e.detail)  # names the key, never the value
        return problems

    def auth_problems(self) -> list[str]:
        """What makes token validation impossible; empty when auth can run."""
        problems = []
        if not self.entra_tenant_id:
            problems.append(f"{ENTRA_TENANT_ID} is not set")
        elif not (self.is_multi_tenant or is_guid(self.entra_tenant_id)):
            problems.append(f"{ENTRA_TENANT_ID} must be a tenant GUID or 'organizations'")
        if not self.entra_audiences:
            problems.append(f"{ENTRA_AUDIENCES} is not set")
        if self.is_multi_tenant and not self.entra_allowed_tenants:
            problems.append(f"{ENTRA_ALLOWED_TENANTS} is required when {ENTRA_TENANT_ID} is multi-tenant")
        if any(not is_guid(t) for t in self.entra_allowed_tenants):
            problems.append(f"{ENTRA_ALLOWED_TENANTS} must list tenant GUIDs")
        return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (Functions restarts the worker on change)."""
    return Settings.from_environ()
