"""``X-ASRS-Signature``: one ``sha256=<hex>`` per service access key, over the connection id.

The service signs the ``X-ASRS-Connection-Id`` value with HMAC-SHA256 keyed with each access
key's UTF-8 bytes and sends the hex digests comma-separated (upper-case hex in the official
emulator: Azure/azure-signalr ``src/Microsoft.Azure.SignalR.Emulator/Utils.cs``). A request
is genuine when any digest matches any configured key (both keys during a rotation).

The header is read as the Functions extension reads it (Azure/azure-sdk-for-net
``sdk/signalr/Microsoft.Azure.WebJobs.Extensions.SignalRService/src/TriggerBindings/Utils/
SignalRTriggerUtils.cs`` ``GetSignatureList`` and ``Resolver/SignalRRequestResolver.cs``
``ValidateSignature``): split on ``,``, empty entries dropped, each entry trimmed (the newer
version; the older one does not trim, so a space after the comma is accepted here and there only
since the trim), an entry compared with ``"sha256=" + hex`` ignoring case, so an unknown or
malformed entry is ignored and the header is genuine when one entry matches. Deliberate
differences (docs/reference/fidelity.md): a header over ``MAX_SIGNATURE_HEADER`` characters or a
connection id over ``MAX_CONNECTION_ID`` is refused before any HMAC is computed (the service
sends two entries of 71 characters), and digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

# Two keys and some slack: a longer header is not the service's.
MAX_SIGNATURE_HEADER = 1024
MAX_CONNECTION_ID = 256
_DIGEST = re.compile(r"sha256=([0-9a-f]{64})", re.IGNORECASE)


def sign(connection_id: str, key: str) -> str:
    """The signature the service sends for one key (upper-case hex, as the emulator writes it)."""
    digest = hmac.new(key.encode("utf-8"), connection_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return "sha256=" + digest.upper()


def signature_header(connection_id: str, keys: Iterable[str]) -> str:
    return ",".join(sign(connection_id, key) for key in keys)


def parse_signatures(header: str) -> list[bytes] | None:
    """The digests the ``sha256=<hex>`` entries of a header carry (other entries are ignored, as
    the extension ignores them: they can never match), or None when the header is oversized."""
    if len(header) > MAX_SIGNATURE_HEADER:
        return None
    digests = []
    for part in header.split(","):
        match = _DIGEST.fullmatch(part.strip())
        if match is not None:
            digests.append(bytes.fromhex(match.group(1)))
    return digests


def is_signed(connection_id: str | None, header: str | None, keys: Iterable[str]) -> bool:
    """True when ``header`` holds a valid signature of ``connection_id`` with one of ``keys``."""
    if not connection_id or not header or len(connection_id) > MAX_CONNECTION_ID:
        return False
    digests = parse_signatures(header)
    if not digests:
        return False
    message = connection_id.encode("utf-8")
    matched = False
    # Every pair is compared, so the time taken says nothing about which one matched.
    for key in keys:
        if not key:  # the extension skips empty keys; an empty HMAC key would be guessable
            continue
        expected = hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()
        for digest in digests:
            matched |= hmac.compare_digest(expected, digest)
    return matched
