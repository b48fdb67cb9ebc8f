"""What names an idempotency record: a scope, a key, and the fingerprint of what the key was used for.

Scopes keep callers apart: over HTTP the caller's tenant, object id and calling application (two
callers never share a key); on the commands queue the queue itself (and the command's tenant, when
it names one). The Table keys are digests, so no caller-chosen character reaches them (Table keys
refuse ``/ \\ # ?`` and control characters) and their length is fixed:

- ``PartitionKey``: the scope's digest. Every record of one scope shares a partition, so a queued
  batch's items go to the store in Table transactions (one partition, up to 100 entities each);
- ``RowKey``: the digest of the scope and the key.

The fingerprint is a digest of everything that makes two requests the same request (operation,
route values, query, body): the same key with another fingerprint is refused (422), never replayed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from functions.core.errors import FieldError, ValidationError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# The IETF httpapi draft's key is a string; here 1-255 printable ASCII characters (space to tilde).
_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def check_key(value: str) -> str:
    """A caller's ``Idempotency-Key`` header value, or a ValidationError naming the header (never quoting it)."""
    if not _KEY.fullmatch(value):
        raise ValidationError([FieldError(HEADER, f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")])
    return value


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint(*parts: Any) -> str:
    """A digest of ``parts`` (JSON values; bytes are digested first): equal requests, equal fingerprints."""
    values = [hashlib.sha256(p).hexdigest() if isinstance(p, bytes) else p for p in parts]
    return _digest(json.dumps(values, sort_keys=True, separators=(",", ":"), default=str))


def http_scope(tenant_id: str, object_id: str, client_app_id: str) -> str:
    return "http\n" + "\n".join((tenant_id.lower(), object_id.lower(), client_app_id.lower()))


def queue_scope(queue: str, tenant_id: str | None = None) -> str:
    return "queue\n" + queue.lower() + ("\n" + tenant_id.lower() if tenant_id else "")


@dataclass(frozen=True)
class RecordKey:
    """One record: ``value`` is the key within ``scope``; ``fingerprint`` what it was used for."""

    scope: str
    value: str
    fingerprint: str

    @property
    def partition(self) -> str:
        return _digest(self.scope)[:32]

    @property
    def row(self) -> str:
        return _digest(self.scope + "\n" + self.value)
