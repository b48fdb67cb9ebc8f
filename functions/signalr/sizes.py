"""The sizes the service takes, measured on the request the client is about to send.

https://learn.microsoft.com/azure/azure-signalr/signalr-reference-data-plane-rest-api ("Limitation"):
16 KB of request line and headers, 1 MB of body. A request over either is refused before it goes
out, naming the input that made it so, instead of the service's refusal surfacing as a 502.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from functions.core.command import Command

MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024
# Headers urllib3 adds itself (Host, Accept-Encoding, Content-Length, Connection) with room to spare.
ADDED_HEADER_BYTES = 160


class HeadTooLarge(Exception):
    """The request line and headers would exceed what the service takes (``size`` bytes)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def head_size(method: str, target: str, headers: dict[str, str]) -> int:
    """Bytes of ``METHOD target HTTP/1.1`` and the headers as sent (all ASCII), urllib3's own included."""
    line = len(method) + len(target) + len(" HTTP/1.1\r\n") + 1
    return line + sum(len(k) + len(v) + 4 for k, v in headers.items()) + ADDED_HEADER_BYTES + 2


def _encoded_size(value: Any) -> int:
    values = value if isinstance(value, list) else [value]
    return sum(len(quote(str(v), safe="")) + 1 for v in values)


def largest_input(command: Command) -> str:
    """The input that adds most to the request line (path segments and query values, encoded)."""
    sizes = {name: _encoded_size(value) for name, value in command.args.items()}
    return max(sizes, key=sizes.__getitem__) if sizes else "hub"
