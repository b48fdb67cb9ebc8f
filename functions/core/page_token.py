"""Continuation tokens the facade seals, so only a token it issued, for the same listing, is followed.

A page's ``nextLink`` carries the service's continuation token (or, over several endpoints,
each endpoint's). Sent back as it is, a caller could hand the facade any token (a forged one,
or one from another group's listing) and the facade would forward it. So the facade seals it:

    token = base64url( version (1 byte) || HMAC-SHA256(key, binding || upstream token) || upstream token )

The binding is the operation, the hub (lower case, as the service compares it), the group,
the ``application`` namespace (which holds the tenant in multi-tenant mode) and ``top``, so a
token is good only for the listing that produced it. A token whose MAC does not verify under
any accepted key is ``ContinuationRefused`` (400) and nothing is sent upstream.

Keys (``PageTokenKeys.from_settings``), in order of preference:

1. ``SIGNALR_PAGE_TOKEN_SECRET`` (any text; the same on every instance). Rotation: set the new
   value there and the old one in ``SIGNALR_PAGE_TOKEN_SECRET_PREVIOUS``; tokens are issued
   with the new one and accepted under both. Remove the previous one after a few minutes.
2. Unset: derived from the access keys of the configured connection strings (rotating a key
   then invalidates the page tokens in flight: callers start the listing again).
3. Neither (Entra ID connection strings, as Bicep deploys): a random secret the deployment's
   workers share, created by the first of them in the idempotency table on the commands' storage
   account (``functions.core.idempotency.shared_secret``, which also says how to rotate it).
4. No storage either (a facade without a commands account): a random key for this worker. It
   fails safe (nothing forged is ever accepted), but a ``nextLink`` followed on another worker or
   after a restart is a 400 and the caller starts again; the facade logs a WARNING once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from functions.core.command import Command
from functions.core.errors import ContinuationRefused

log = logging.getLogger(__name__)

VERSION = b"\x01"
_MAC_BYTES = 32
_PURPOSE = b"signalr-facade page token v1"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
REFUSED = "The continuation token is not one this facade issued for this listing"


def derive_key(secret: str) -> bytes:
    """A key for this purpose only, whatever else the secret (an access key) is used for."""
    return hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


def binding(command: Command) -> bytes:
    """What a token is good for: operation, hub, group, application (and so tenant), top."""
    parts = (command.spec.name, command.hub.lower(), str(command.args.get("group", "")),
             command.application or "", str(command.args.get("top", "")))
    # Length-prefixed, so no choice of values can make two bindings read the same.
    return b"".join(len(p.encode("utf-8")).to_bytes(4, "big") + p.encode("utf-8") for p in parts)


@dataclass(frozen=True)
class PageTokenKeys:
    """The key tokens are sealed with (the first) and every key a token is accepted under."""

    keys: tuple[bytes, ...]
    source: str  # "setting", "access key", "storage" or "worker": for the log and health, never the key

    @classmethod
    def from_secrets(cls, secrets_: Sequence[str], source: str) -> PageTokenKeys:
        return cls(tuple(derive_key(s) for s in secrets_ if s), source)

    @classmethod
    def for_worker(cls) -> PageTokenKeys:
        log.warning("No SIGNALR_PAGE_TOKEN_SECRET and no access key: page tokens are sealed with a key of this "
                    "worker only; a nextLink followed on another worker is refused (400)")
        return cls((secrets.token_bytes(32),), "worker")

    def _mac(self, key: bytes, command: Command, upstream: bytes) -> bytes:
        return hmac.new(key, binding(command) + b"\x00" + upstream, hashlib.sha256).digest()

    def seal(self, command: Command, upstream_token: str) -> str:
        upstream = upstream_token.encode("utf-8")
        raw = VERSION + self._mac(self.keys[0], command, upstream) + upstream
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def open(self, command: Command, token: str) -> str:
        """The upstream token a sealed ``token`` carries; ``ContinuationRefused`` unless it was
        sealed under one of the keys for this very listing."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            raise ContinuationRefused(REFUSED) from None
        mac, upstream = raw[1:1 + _MAC_BYTES], raw[1 + _MAC_BYTES:]
        if raw[:1] != VERSION or not upstream:
            raise ContinuationRefused(REFUSED)
        # Every key is tried (no early exit on the first mismatch), each compared in constant time.
        if not any([hmac.compare_digest(mac, self._mac(key, command, upstream)) for key in self.keys]):
            raise ContinuationRefused(REFUSED)
        text = upstream.decode("utf-8", errors="replace")
        if _CONTROL.search(text):  # sealed by us, so never; kept as the old rule's last line of defence
            raise ContinuationRefused(REFUSED)
        return text
