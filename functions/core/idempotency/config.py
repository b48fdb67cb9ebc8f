"""Where the idempotency table lives: the commands queue's storage account, named as the Functions host names it.

``SIGNALR_COMMANDS_STORAGE`` is the commands queue binding's connection (functions/queue/trigger.py): a
connection string in that setting, or the identity form. The table service is found the same way the
Functions host finds a service from an identity connection
(https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity):
``SIGNALR_COMMANDS_STORAGE__tableServiceUri``, else ``__accountName`` (the public cloud's table
endpoint), with ``__credential=managedidentity`` and ``__clientId`` for a user-assigned identity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

IDEMPOTENCY_TABLE = "SIGNALR_IDEMPOTENCY_TABLE"
IDEMPOTENCY_TTL = "SIGNALR_IDEMPOTENCY_TTL"
DEFAULT_TABLE = "signalridempotency"
DEFAULT_TTL = 86_400  # a day: longer than any caller's or queue's retries
MIN_TTL, MAX_TTL = 60, 30 * 86_400
# Azure Table names: 3-63 letters and digits, starting with a letter.
_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")


@dataclass(frozen=True)
class StoreSettings:
    """The table's account (a connection string, or an endpoint and an identity), name, and record lifetime."""

    connection_string: str | None = None
    table_service_uri: str | None = None
    credential: str | None = None  # "managedidentity", or None for the default credential chain
    client_id: str | None = None
    table: str = DEFAULT_TABLE
    ttl: int = DEFAULT_TTL
    # Any form of the connection is set: the commands queue can run, so its commands are guarded
    # (without a table endpoint in it, the store fails closed: ConfigurationError, retried).
    named: bool = False

    @property
    def configured(self) -> bool:
        return bool(self.connection_string or self.table_service_uri)


def _setting(env: Mapping[str, str], name: str) -> str | None:
    return (env.get(name) or "").strip() or None


def read_store_settings(env: Mapping[str, str], connection: str, problems: list[str], *,
                        table_text: str | None, ttl_text: str | None) -> StoreSettings:
    """The store's settings under connection prefix ``connection`` (the table's and the window's settings read
    by the caller, functions/core/settings.py); malformed values become ``problems``."""
    table = (table_text or "").strip() or DEFAULT_TABLE
    if not _TABLE_NAME.fullmatch(table):
        problems.append(f"{IDEMPOTENCY_TABLE} must be 3 to 63 letters and digits, starting with a letter")
        table = DEFAULT_TABLE
    ttl_text = (ttl_text or "").strip() or None
    ttl = DEFAULT_TTL
    if ttl_text is not None:
        if ttl_text.isdigit() and MIN_TTL <= int(ttl_text) <= MAX_TTL:
            ttl = int(ttl_text)
        else:
            problems.append(f"{IDEMPOTENCY_TTL} must be a whole number of seconds from {MIN_TTL} to {MAX_TTL}")
    uri = _setting(env, f"{connection}__tableServiceUri")
    account = _setting(env, f"{connection}__accountName")
    if uri is None and account is not None:
        uri = f"https://{account}.table.core.windows.net"
    return StoreSettings(
        connection_string=_setting(env, connection),
        table_service_uri=uri,
        credential=(_setting(env, f"{connection}__credential") or "").lower() or None,
        client_id=_setting(env, f"{connection}__clientId"),
        table=table,
        ttl=ttl,
        named=any(value and (name == connection or name.startswith(connection + "__")) for name, value in env.items()),
    )
