"""The configuration reference: every setting the code and the bindings read, one line each.

``python -m devstack docs`` writes docs/reference/configuration.md from ``SETTINGS_REFERENCE``, and a
test fails when a setting is read that the table does not describe. The names themselves live in
``functions.core.settings``, which reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.core.idempotency.config import DEFAULT_TABLE as DEFAULT_IDEMPOTENCY_TABLE
from functions.core.idempotency.config import DEFAULT_TTL, MAX_TTL, MIN_TTL
from functions.core.settings import (
    BATCH_MAX_ATTEMPTS,
    BATCH_PARALLELISM,
    CALLER_LIMIT,
    COMMANDS_QUEUE,
    COMMANDS_STORAGE_CONNECTION,
    DEFAULT_BATCH_MAX_ATTEMPTS,
    DEFAULT_BATCH_PARALLELISM,
    DEFAULT_CALLER_LIMIT,
    DEFAULT_COMMANDS_QUEUE,
    DEFAULT_EVENTS_QUEUE,
    ENTRA_ACCEPT_V1_TOKENS,
    ENTRA_ALLOWED_CLIENT_APPS,
    ENTRA_ALLOWED_TENANTS,
    ENTRA_AUDIENCES,
    ENTRA_METADATA_URL,
    ENTRA_TENANT_ID,
    EVENTS_QUEUE,
    IDEMPOTENCY_TABLE,
    IDEMPOTENCY_TTL,
    PAGE_TOKEN_SECRET,
    PAGE_TOKEN_SECRET_PREVIOUS,
    SIGNALR_ALLOWED_HUBS,
    SIGNALR_APPLICATION,
    SIGNALR_CONNECTION_STRING,
    UPSTREAM_ACCEPT_SIGNATURES,
    UPSTREAM_IDENTITIES,
    UPSTREAM_KEYS,
)
from functions.signalr.endpoints import PREFIX as ENDPOINTS_PREFIX


@dataclass(frozen=True)
class SettingDoc:
    """One setting as the configuration reference shows it (``python -m devstack docs`` writes the page)."""

    name: str
    meaning: str
    unset: str  # what leaving it out means


# Every setting the code and the bindings read, one line each. The reference page is generated from
# this table and a test fails when a setting is read that the table does not describe.
SETTINGS_REFERENCE: tuple[SettingDoc, ...] = (
    SettingDoc(SIGNALR_CONNECTION_STRING,
               "the SignalR instance: `Endpoint=https://<name>.service.signalr.net;AuthType=azure.msi;"
               "ClientId=<client id>;Version=1.0;` (managed identity) or `Endpoint=…;AccessKey=…;Version=1.0;`; "
               "also `AuthType=azure` or `azure.app` (with `ClientSecret` or `ClientCert`, a certificate file's "
               "path), `Port`, `ClientEndpoint`, `ServerEndpoint`, parsed with the official SDKs' rules",
               "required, unless its identity form or named endpoints are set"),
    SettingDoc(f"{SIGNALR_CONNECTION_STRING}__serviceUri",
               "the identity form of the one instance (Microsoft's name), with `__credential=managedidentity` and "
               "`__clientId` or `__managedIdentityResourceId`; without `__credential`, DefaultAzureCredential",
               "the connection string above"),
    SettingDoc(f"{ENDPOINTS_PREFIX}<name>",
               "one more SignalR instance (a connection string), primary; also "
               f"`{ENDPOINTS_PREFIX}<name>__<type>`, `<type>` `primary` or `secondary` (any case)",
               "one instance only"),
    SettingDoc(f"{ENDPOINTS_PREFIX}<name>__serviceUri",
               "the identity form of an instance (Microsoft's names), with `__type` (`primary`, the default, or "
               "`secondary`), `__credential=managedidentity` and `__clientId` or `__managedIdentityResourceId`; "
               "or `__clientId` + `__tenantId` + `__clientSecret`; or neither (DefaultAzureCredential). The older "
               f"spelling `{ENDPOINTS_PREFIX}<name>__<type>__serviceUri` (and its sub-settings) is read too",
               "one instance only"),
    SettingDoc(ENTRA_TENANT_ID, "the tenant GUID, or `organizations` for multi-tenant", "required"),
    SettingDoc(ENTRA_AUDIENCES, "comma-separated accepted `aud` values, e.g. `api://<client-id>,<client-id>`",
               "required"),
    SettingDoc(ENTRA_ALLOWED_TENANTS, "comma-separated tenant GUIDs allowed in multi-tenant mode",
               "required when multi-tenant"),
    SettingDoc(ENTRA_ACCEPT_V1_TOKENS, "`true` to also accept v1.0 tokens (issuer `https://sts.windows.net/{tid}/`)",
               "`false`"),
    SettingDoc(ENTRA_ALLOWED_CLIENT_APPS,
               "comma-separated application (client) ids allowed to call (`azp`, v1 `appid`)",
               "any client app of an allowed tenant"),
    SettingDoc(ENTRA_METADATA_URL,
               "the OpenID configuration URL instead of Entra's (the local identity provider, tests)",
               "the tenant's Entra configuration"),
    SettingDoc(SIGNALR_ALLOWED_HUBS, "comma-separated allow-list of hubs (case-insensitive)", "any hub"),
    SettingDoc(SIGNALR_APPLICATION,
               "SignalR's `application` name (the service's rule: a letter, then letters, digits or ``,.[]` — "
               "`_` excepted, see below; at most 128): every upstream call addresses `<app>_<hub>` (in the v1 path; "
               "`?application=` on the dated operations that define it) and negotiated hubs are `<app>_<hub>`, "
               "so several apps share one instance. No `_`, and "
               "`SIGNALR_ALLOWED_HUBS` may then name no hub with `_` (`app` + `foo_chat` would be `app_foo` + "
               "`chat`): a settings problem",
               "none"),
    SettingDoc(COMMANDS_QUEUE, "the commands queue, read by the queue trigger's bindings (`<name>-invalid` and "
               "`<name>-poison` beside it)",
               f"required (the bindings cannot resolve it); `{DEFAULT_COMMANDS_QUEUE}` in Bicep and the sample"),
    SettingDoc(COMMANDS_STORAGE_CONNECTION,
               "the commands and events queues' connection: a connection string, or identity-based "
               f"`{COMMANDS_STORAGE_CONNECTION}__queueServiceUri` (+ `__credential=managedidentity`, `__clientId`); "
               "the idempotency table lives on the same account (`__tableServiceUri` in the identity form)",
               "required"),
    SettingDoc(IDEMPOTENCY_TABLE,
               "the table of idempotency records (`Idempotency-Key` over HTTP, command ids on the queue; "
               "docs/guides/idempotency.md): 3-63 letters and digits",
               f"`{DEFAULT_IDEMPOTENCY_TABLE}`"),
    SettingDoc(IDEMPOTENCY_TTL, "seconds an idempotency record is kept: the window in which a repeat is recognised "
               f"({MIN_TTL}-{MAX_TTL})", f"`{DEFAULT_TTL}` (a day)"),
    SettingDoc(EVENTS_QUEUE, "the client events queue, read by the upstream receiver's output binding",
               f"required (the binding cannot resolve it); `{DEFAULT_EVENTS_QUEUE}` in Bicep and the sample"),
    SettingDoc(UPSTREAM_IDENTITIES,
               "comma-separated object or app ids of the SignalR resource's managed identity, whose tokens the "
               "upstream receiver accepts",
               "no token is accepted"),
    SettingDoc(UPSTREAM_KEYS,
               "access keys the upstream receiver checks signatures with besides the connection string's "
               "(both keys during a rotation); access-key deployments only",
               "the connection string's key only"),
    SettingDoc(UPSTREAM_ACCEPT_SIGNATURES,
               "`true` to accept signed upstream requests although `SIGNALR_UPSTREAM_IDENTITIES` is set: only "
               "while moving a deployment from access keys to the identity; access-key deployments only",
               "`false`: once an identity is listed, a request without its token is 401"),
    SettingDoc(BATCH_PARALLELISM,
               "most batch items one worker sends to SignalR at once, shared by its batches (1–32; fewer while "
               "the worker's CPU is saturated)",
               f"{DEFAULT_BATCH_PARALLELISM}"),
    SettingDoc(BATCH_MAX_ATTEMPTS,
               "attempts at what the facade re-queues (a batch's remaining items, a command still owed to some "
               "endpoints) before `<queue>-poison` (1–100)",
               f"{DEFAULT_BATCH_MAX_ATTEMPTS}"),
    SettingDoc(CALLER_LIMIT,
               "commands per second per caller (tenant + `oid`, else `azp`) on each worker: a token bucket holding "
               "ten seconds of it and at least one 1,000-item batch; over it, 429 with `Retry-After` (a batch is "
               "refused whole). `0` turns it off. Per worker: put an APIM or Front Door rate limit in front for a "
               "global one",
               f"{DEFAULT_CALLER_LIMIT}"),
    SettingDoc(PAGE_TOKEN_SECRET,
               "the secret the key sealing page tokens (`continuationToken`) is derived from; the same on every "
               "instance (a Key Vault reference)",
               "derived from the connection strings' access keys; with none, a secret the workers share in the "
               "idempotency table; without storage either, a key per worker (a `nextLink` followed on another "
               "worker is a 400)"),
    SettingDoc(PAGE_TOKEN_SECRET_PREVIOUS,
               f"the `{PAGE_TOKEN_SECRET}` before the current one, still accepted while rotating",
               "only the current secret is accepted"),
)
