"""Storage queue clients from binding settings, resolved the way the Functions host does.

A binding's ``connection`` names a setting: ``<name>`` (or ``AzureWebJobs<name>``) holding a
connection string (``UseDevelopmentStorage=true`` included), or the identity form
``<name>__queueServiceUri`` / ``<name>__serviceUri`` / ``<name>__accountName`` with optional
``<name>__credential=managedidentity`` and ``<name>__clientId``. azure-identity is imported
only when an identity connection is used. Queue names may carry ``%SETTING%`` expressions
and are lower-cased and validated, as the host does.

Message text on the wire: ``base64`` (the Functions default) or ``none``.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue.aio import QueueClient, QueueServiceClient

_EXPRESSION = re.compile(r"%([^%]+)%")
_QUEUE_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


class BindingError(ValueError):
    """Raised when a binding's queue name or connection setting cannot be resolved."""


def _setting(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value:
        return value
    lowered = name.lower()  # .NET configuration keys are case-insensitive
    return next((v for k, v in environ.items() if k.lower() == lowered and v), None)


def resolve_queue_name(text: str, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ

    def lookup(found: re.Match[str]) -> str:
        value = _setting(env, found.group(1))
        if value is None:
            raise BindingError(f"'%{found.group(1)}%' does not resolve to a value")
        return value

    name = _EXPRESSION.sub(lookup, text).lower()
    if not _QUEUE_NAME.match(name):
        raise BindingError(f"invalid queue name {name!r}")
    return name


def encode_message(value: str | bytes, encoding: str) -> str:
    data = value.encode("utf-8") if isinstance(value, str) else value
    if encoding == "base64":
        return base64.b64encode(data).decode("ascii")
    return data.decode("utf-8", errors="replace")


def decode_message(text: str, encoding: str) -> bytes:
    """Message body bytes; raises ValueError when base64 is expected and the text is not."""
    if encoding != "base64":
        return text.encode("utf-8")
    try:
        # .NET's Convert.FromBase64String ignores whitespace and insists on padding.
        raw = base64.b64decode(re.sub(r"[ \t\r\n]", "", text), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("message is not valid base64") from e
    # The host hands the worker the message as a UTF-8 string; undecodable bytes become U+FFFD.
    return raw.decode("utf-8", errors="replace").encode("utf-8")


class QueueConnections:
    """One async QueueServiceClient per connection setting, created on first use."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._services: dict[str, QueueServiceClient] = {}
        self._credentials: list[Any] = []

    def service(self, connection: str) -> QueueServiceClient:
        if connection not in self._services:
            self._services[connection] = self._build(connection)
        return self._services[connection]

    def queue(self, connection: str, queue_name: str) -> QueueClient:
        return self.service(connection).get_queue_client(queue_name)

    def _build(self, connection: str) -> QueueServiceClient:
        options: dict[str, Any] = {"retry_total": 2, "connection_timeout": 10, "read_timeout": 30}
        for name in (connection, f"AzureWebJobs{connection}"):
            conn_str = _setting(self._environ, name)
            if conn_str:
                return QueueServiceClient.from_connection_string(conn_str, **options)
        uri = _setting(self._environ, f"{connection}__queueServiceUri") or _setting(
            self._environ, f"{connection}__serviceUri"
        )
        account = _setting(self._environ, f"{connection}__accountName")
        if uri is None and account:
            uri = f"https://{account}.queue.core.windows.net"
        if uri is None:
            raise BindingError(f"storage connection setting '{connection}' does not exist")
        credential = self._credential(connection)
        self._credentials.append(credential)
        return QueueServiceClient(uri, credential=credential, **options)

    def _credential(self, connection: str) -> Any:
        from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

        client_id = _setting(self._environ, f"{connection}__clientId")
        kind = (_setting(self._environ, f"{connection}__credential") or "").lower()
        if kind == "managedidentity":
            return ManagedIdentityCredential(client_id=client_id)
        return DefaultAzureCredential(managed_identity_client_id=client_id)

    async def close(self) -> None:
        for service in self._services.values():
            await service.close()
        for credential in self._credentials:
            await credential.close()
        self._services.clear()
        self._credentials.clear()


async def send_creating_queue(client: QueueClient, text: str) -> None:
    """Send one message, creating the queue when it does not exist yet (as output bindings do)."""
    try:
        await client.send_message(text)
    except ResourceNotFoundError:
        try:
            await client.create_queue()
        except ResourceExistsError:
            pass
        await client.send_message(text)
