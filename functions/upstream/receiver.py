"""The receiver's steps, in order: authenticate → read → check the hub → the envelope.

Authentication comes first and answers only 401 or 403, with the same words whatever failed,
so a forger learns nothing about which check stopped it:

- a request with an ``Authorization`` header must carry an Entra token the facade's validator
  accepts (issuer, audience = the facade's API, lifetime, signature), issued to an app (the
  SignalR resource's managed identity) whose object id or app id is listed in
  ``SIGNALR_UPSTREAM_IDENTITIES`` (a valid token of any other identity: 403);
- any other request must carry ``X-ASRS-Signature`` with a valid signature of its
  ``X-ASRS-Connection-Id`` made with the connection string's access key or one listed in
  ``SIGNALR_UPSTREAM_KEYS`` (anything else: 401).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from functions.catalog.rules import digits_value
from functions.core.command import MAX_BODY_BYTES
from functions.core.errors import AuthenticationError, PayloadTooLarge, PermissionDenied, UnsupportedMediaType
from functions.upstream import events
from functions.upstream.signature import is_signed

if TYPE_CHECKING:
    from functions.core.facade import Facade

MESSAGEPACK_TYPES = ("application/x-msgpack", "application/msgpack", "application/vnd.msgpack")
NOT_FROM_THE_SERVICE = "The request does not prove that it comes from the SignalR Service"


class UpstreamReceiver:
    """Turns an upstream request into an event envelope, or raises the FacadeError to answer."""

    def __init__(self, facade: Facade) -> None:
        self.facade = facade
        self.settings = facade.settings

    @cached_property
    def signature_keys(self) -> tuple[str, ...]:
        """Every SignalR endpoint's access key (the connection string's and those of
        ``Azure__SignalR__Endpoints__*``, functions/signalr/endpoints.py) and the extra keys, for
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
        if not is_signed(headers.get("X-ASRS-Connection-Id"), headers.get("X-ASRS-Signature"),
                         self.signature_keys):
            raise AuthenticationError(NOT_FROM_THE_SERVICE)
        return "signature"

    @staticmethod
    def read_body(headers: Any, raw: bytes) -> bytes:
        declared = digits_value(headers.get("Content-Length") or "")  # length-checked before int()
        if (declared is not None and declared > MAX_BODY_BYTES) or len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"An upstream body is at most {MAX_BODY_BYTES} bytes (the service's limit)")
        media_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type in MESSAGEPACK_TYPES:
            raise UnsupportedMediaType("MessagePack hub protocol bodies are not supported: clients must use the "
                                       "JSON hub protocol")
        if raw.strip() and media_type != "application/json":
            raise UnsupportedMediaType("Upstream bodies must be application/json (the JSON hub protocol)")
        return raw

    def hub_name(self, service_hub: str) -> str:
        """The hub as the facade names it: the service's name without the application prefix."""
        application = self.settings.application
        if application and service_hub.startswith(application + "_"):
            return service_hub[len(application) + 1:]
        return service_hub

    def receive(self, headers: Any, route: dict[str, str], raw: bytes) -> dict[str, Any]:
        authenticated_by = self.authenticate(headers)
        body = self.read_body(headers, raw)
        connection_id = events.read_connection(headers)
        envelope = events.read_event(headers, route, connection_id, body)
        envelope["hub"] = self.hub_name(envelope["hub"])
        self.facade.check_hub_allowed(envelope["hub"])
        envelope["authenticatedBy"] = authenticated_by
        return envelope
