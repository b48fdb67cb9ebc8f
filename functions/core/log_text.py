"""The one escaping function for log lines: every value that reaches a log line passes through ``log_safe``.

A value from outside (a queue message's id, a client's ``:invoke`` answer, an upstream error, a
header) may hold a line break (a forged second log line), an ANSI escape (a terminal rewritten
under the operator's eyes), a lone surrogate (an encoder failure in the log pipeline) or simply be
huge. ``log_safe`` makes any value one printable line of bounded length:

- printable characters stay as they are (non-ASCII letters included);
- a backslash is doubled, so an escape in the output always means the facade wrote it;
- every other character (C0/C1 controls, U+2028/U+2029, surrogates, unassigned and format
  characters) becomes ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``;
- past ``limit`` characters of input the rest is cut and counted.

Everything logged by the facade is built from constants and ``log_safe`` values;
tests/unit/core/test_log_text.py feeds hostile values through every logging call path.
"""

from __future__ import annotations

MAX_LOG_VALUE = 512


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def log_safe(value: object, limit: int = MAX_LOG_VALUE) -> str:
    """``value`` as one printable line of at most ``limit`` input characters (see the module's rules)."""
    text = value if isinstance(value, str) else str(value)
    cut = len(text) - limit
    head = text[:limit] if cut > 0 else text
    if head.isprintable() and "\\" not in head:  # the usual case: nothing to do
        escaped = head
    else:
        escaped = "".join(
            "\\\\" if c == "\\" else c if c.isprintable() else _escape(c) for c in head)
    return f"{escaped}...({cut} more)" if cut > 0 else escaped
