"""Refused tokens: what the answer may say about them, and a rate-limited WARNING per refusal.

An operator diagnosing "why is my client getting 401" needs to see what the token claimed
(``aud``, ``iss``, ``tid``, the client ``azp``/``appid``, the caller ``oid``) next to the reason,
never the token itself. The claims are read WITHOUT verification, for the log only: nothing
decides on them. A flood of bad tokens must not fill the log (or the bill of a log workspace):
at most ``burst`` lines per ``window`` seconds, then one line saying how many were left out.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("functions.auth")

LOGGED_CLAIMS = ("aud", "iss", "tid", "azp", "appid", "oid")
MAX_SHOWN = 120  # characters of one claim value in a log line or an answer


def shown(value: object) -> str:
    """A claim value safe for a log line or an answer: printable ASCII, quoted, capped.

    Control characters, quotes and backslashes are escaped (repr-style), so a forged claim
    cannot start a new log line or break out of a ``WWW-Authenticate`` quoted string."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    escaped = "".join(_escape(c) for c in text[:MAX_SHOWN])
    return f"'{escaped}'" + ("..." if len(text) > MAX_SHOWN else "")


def _escape(c: str) -> str:
    if 32 <= ord(c) < 127 and c not in "\\\"'":
        return c
    return f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"


def unverified_part(token: str, index: int) -> dict[str, Any]:
    """The header (0) or claims (1) of a compact JWS, unverified; {} when unreadable."""
    try:
        segment = token.split(".")[index]
        data = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def looks_like_signalr_client_token(claims: dict[str, Any]) -> bool:
    """A token SignalR Service (or negotiate) hands a client: audience ``<endpoint>/client/?hub=<hub>``
    (https://learn.microsoft.com/azure/azure-signalr/signalr-reference-data-plane-rest-api, client tokens)."""
    aud = claims.get("aud")
    return isinstance(aud, str) and "/client/?hub=" in aud


class RefusalLog:
    """One WARNING per refused token, at most ``burst`` per ``window`` seconds (thread-safe)."""

    def __init__(self, burst: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._logged = 0
        self._suppressed = 0

    def refused(self, reason: str, token: str | None) -> None:
        with self._lock:
            now = self._clock()
            suppressed = 0
            if now - self._window_start >= self.window:
                suppressed, self._suppressed = self._suppressed, 0
                self._window_start, self._logged = now, 0
            allowed = self._logged < self.burst
            if allowed:
                self._logged += 1
            else:
                self._suppressed += 1
        if suppressed:
            log.warning("token refusals not logged: %d in the last %.0f s (rate limit)", suppressed, self.window)
        if allowed:
            claims = unverified_part(token, 1) if token else {}
            described = " ".join(f"{name}={shown(claims[name])}" for name in LOGGED_CLAIMS if name in claims)
            log.warning("token refused: reason=%s %s", shown(reason), described or "claims=none")
