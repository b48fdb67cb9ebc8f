"""The receiver's steps, in order: authenticate → read → check the hub → the envelope.

The hub check: with ``SIGNALR_APPLICATION`` (and, multi-tenant, each allowed tenant's namespace)
only the facade's own hubs are taken (``namespace``); another app's hub on the same SignalR
instance is 403 and nothing is queued. Then ``SIGNALR_ALLOWED_HUBS``.

Authentication comes first and answers only 401 or 403, with the same words whatever failed,
so a forger learns nothing about which check stopped it:

- a request with an ``Authorization`` header must carry an Entra token the facade's validator
  accepts (issuer, audience = the facade's API, lifetime, signature), issued to an app (the
  SignalR resource's managed identity) whose object id or app id is listed in
  ``SIGNALR_UPSTREAM_IDENTITIES`` (a valid token of any other identity: 403);
- any other request must carry ``X-ASRS-Signature`` with a valid signature of its
  ``X-ASRS-Connection-Id`` made with the connection string's access key or one listed in
  ``SIGNALR_UPSTREAM_KEYS`` (anything else: 401);
- but once ``SIGNALR_UPSTREAM_IDENTITIES`` is set, a request without a token is 401 whatever its
  signature: a signature covers only the connection id, so one captured request would let anyone
  forge events for that connection for as long as the key lives. ``SIGNALR_UPSTREAM_ACCEPT_SIGNATURES
  =true`` accepts both while a deployment moves from access keys to the identity. 401, not 403:
  the request did not present the credential the receiver requires (no identity was proven to
  be refused), and the same words as any failed signature.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from functions.catalog.rules import digits_value
from functions.core.command import MAX_BODY_BYTES
from functions.core.errors import AuthenticationError, PayloadTooLarge, PermissionDenied, UnsupportedMediaType
from functions.core.facade import tenant_namespace
from functions.upstream import events
from functions.upstream.signature import is_signed

if TYPE_CHECKING:
    from functions.core.facade import Facade

# A queue message holds 64 KiB: "The encoded message can be up to 64 KiB in size" (Put Message,
# https://learn.microsoft.com/rest/api/storageservices/put-message). The host writes the envelope
# as it is (host.json messageEncoding "none") inside the request's XML, where '&', '<' and '>'
# are escaped; counting them escaped is the larger of the two readings of "encoded". Azurite
# (3.37) takes 65,536 UTF-8 bytes and refuses 65,537 ("request body is too large").
MAX_QUEUE_MESSAGE = 64 * 1024
_XML_ESCAPE_EXTRA = {"&": len("&amp;") - 1, "<": len("&lt;") - 1, ">": len("&gt;") - 1}
MESSAGEPACK_TYPES = ("application/x-msgpack",)  # as the extension: exactly this media type
NOT_FROM_THE_SERVICE = "The request does not prove that it comes from the SignalR Service"


class UpstreamReceiver:
    """Turns an upstream request into an event envelope, or raises the FacadeError to answer."""

    def __init__(self, facade: Facade) -> None:
        self.facade = facade
        self.settings = facade.settings

    @cached_property
    def signature_keys(self) -> tuple[str, ...]:
        """Every SignalR endpoint's access key (the connection string's and those of
        ``Azure__SignalR__Endpoints__*``, functions.signalr.endpoints) and the extra keys, for
        rotation. A malformed connection string gives none: /api/health reports it."""
        access_keys = [e.info.access_key for e in self.settings.signalr_endpoints if e.info.access_key]
        return tuple(dict.fromkeys([*access_keys, *self.settings.upstream_keys]))

    def authenticate(self, headers: Any) -> str:
        """How the request proved its origin: ``"identity"`` or ``"signature"``."""
        self.facade.require_sound_settings()
        authorization = headers.get("Authorization")
        if authorization:
            principal = self.facade.authenticate(authorization)
            allowed = self.settings.upstream_identities
            if not principal.is_app or not ({principal.object_id, principal.client_app_id} & allowed):
                raise PermissionDenied("This identity may not deliver upstream events")
            return "identity"
        if self.settings.upstream_identities and not self.settings.upstream_accept_signatures:
            raise AuthenticationError(NOT_FROM_THE_SERVICE)
        if not is_signed(headers.get("X-ASRS-Connection-Id"), headers.get("X-ASRS-Signature"),
                         self.signature_keys):
            raise AuthenticationError(NOT_FROM_THE_SERVICE)
        return "signature"

    @staticmethod
    def read_body(headers: Any, raw: bytes) -> tuple[bytes, bool]:
        """The body and whether it is MessagePack (a client on the MessagePack hub protocol);
        the media types the Functions extension takes (``SignalRTriggerDispatcher.cs``)."""
        declared = digits_value(headers.get("Content-Length") or "")  # length-checked before int()
        if (declared is not None and declared > MAX_BODY_BYTES) or len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"An upstream body is at most {MAX_BODY_BYTES} bytes (the service's limit)")
        media_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type in MESSAGEPACK_TYPES:
            return raw, True
        if raw.strip() and media_type != "application/json":
            raise UnsupportedMediaType("Upstream bodies must be application/json or application/x-msgpack "
                                       "(the JSON or MessagePack hub protocol)")
        return raw, False

    @cached_property
    def namespaces(self) -> dict[str, tuple[str | None, str | None]]:
        """Each hub prefix this facade owns (``<application>_``, in multi-tenant mode one per
        allowed tenant, as ``Facade.application_for`` names them), with its application and tenant.
        Empty: no namespace, every hub is the facade's."""
        tenants: tuple[str | None, ...] = self.settings.entra_allowed_tenants if self.settings.is_multi_tenant \
            else (None,)
        prefixes: dict[str, tuple[str | None, str | None]] = {}
        for tenant in tenants:
            parts = [p for p in (self.settings.application, tenant and tenant_namespace(tenant)) if p]
            if parts:
                prefixes["_".join(parts) + "_"] = (self.settings.application, tenant)
        return prefixes

    def namespace(self, service_hub: str) -> tuple[str, str | None, str | None]:
        """``(hub, application, tenant)`` for a service hub, or 403 when it is not in this facade's
        namespace: another app's hub on the same instance (its users must not reach our backends).
        Under a namespace the rest holds no ``_``: ``app_foo_chat`` may be app ``app_foo``'s hub."""
        if not self.namespaces:
            return service_hub, None, None
        for prefix, (application, tenant) in self.namespaces.items():
            rest = service_hub[len(prefix):]
            if service_hub.startswith(prefix) and rest and "_" not in rest:
                return rest, application, tenant
        raise PermissionDenied("The hub is not in this facade's SignalR application")

    @staticmethod
    def queue_message(envelope: dict[str, Any]) -> str:
        """The envelope as the events queue's message, or 413 when it does not fit one.

        Refused before anything is written, rather than a 500 from the queue output after the
        fact (or a claim check in a blob, which would need a blob client the runtime does not
        carry). The service's 1 MB body limit is larger than a queue message: events between
        are answered 413, which the client sees as a failed invocation.
        """
        text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        size = len(text.encode("utf-8")) + sum(text.count(c) * extra for c, extra in _XML_ESCAPE_EXTRA.items())
        if size > MAX_QUEUE_MESSAGE:
            raise PayloadTooLarge(f"The event is {size} bytes as a queue message; a queue message holds at most "
                                  f"{MAX_QUEUE_MESSAGE} bytes (after XML escaping)")
        return text

    def receive(self, headers: Any, route: dict[str, str], raw: bytes) -> dict[str, Any]:
        authenticated_by = self.authenticate(headers)
        body, messagepack = self.read_body(headers, raw)
        connection_id = events.read_connection(headers)
        envelope = events.read_event(headers, route, connection_id, body, messagepack)
        envelope["hub"], envelope["application"], envelope["tenant"] = self.namespace(envelope["hub"])
        self.facade.check_hub_allowed(envelope["hub"])
        envelope["authenticatedBy"] = authenticated_by
        return envelope
