"""Input rules: each is a check and the JSON schema that says the same thing, side by side.

A ``Rule`` takes a raw value (a route value, a query string, a queue field) and returns the
clean value or raises ``Invalid`` with a message. The catalog attaches a rule to every
parameter, so the HTTP path, the queue, the OpenAPI document and the fuzzers read one
definition. Every text rule refuses strings that are not valid Unicode (a lone UTF-16
surrogate cannot be percent-encoded into a URL or carried in a token).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.catalog.odata.filter import MAX_FILTER_LENGTH, FilterError, check_filter

MAX_ID_LENGTH = 1024
MAX_HUB_LENGTH = 128
MAX_EXCLUDED = 100
MAX_TTL_SECONDS = 31_536_000
MAX_REASON_LENGTH = 1024
MAX_CORRELATION_ID = 256

# The service's rule for hub and application names, as the dated swaggers state it
# (Azure/azure-signalr docs/swagger/v20241201.json, parameters `hub` and `application`).
HUB_PATTERN = "^[A-Za-z][A-Za-z0-9_`,.[\\]]{0,127}$"
# A whole hub (or application) name, length included; an application-prefixed hub is checked against it too.
HUB_NAME = re.compile(HUB_PATTERN[1:-1])
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# "." and ".." are dot segments: percent-encoding cannot keep them literal (RFC 3986 treats
# "%2E" as "."), so HTTP stacks resolve them and the call would land on another route, e.g.
# removeConnectionFromGroup with group ".." would become closeConnection upstream.
DOT_SEGMENTS = frozenset({".", ".."})

# What Python's str.isspace() calls whitespace (the group rule uses it). Spelled out because
# "\\S" differs between regex engines: ECMA-262 and Rust do not count U+001C-U+001F or U+0085,
# Python does (tests hold this list to str.isspace()).
PY_WHITESPACE = ("\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
                 "\\u2028\\u2029\\u202f\\u205f\\u3000")
NOT_BLANK = f"[^{PY_WHITESPACE}]"
_NOT_DOT_SEGMENT = {"not": {"enum": sorted(DOT_SEGMENTS)}}
_NO_CONTROLS = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


class Invalid(Exception):
    """Raised when a single value breaks its rule (collected into a ValidationError)."""


@dataclass(frozen=True)
class Rule:
    """How one input is checked (``check``) and described to clients (``schema``)."""

    check: Callable[[Any], Any]
    schema: dict[str, Any] = field(default_factory=dict)


def is_valid_unicode(text: str) -> bool:
    """False when ``text`` holds a lone UTF-16 surrogate (it cannot be encoded as UTF-8)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_text(value: Any) -> str:
    """A string of valid Unicode."""
    if not isinstance(value, str):
        raise Invalid("must be a string")
    if not is_valid_unicode(value):
        raise Invalid("must be valid Unicode (no unpaired surrogates)")
    return value


def _require_nonempty(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid("is required")
    return require_text(value)


def _check_length(value: str, limit: int) -> None:
    if len(value) > limit:
        raise Invalid(f"must be at most {limit} characters")


def check_hub(value: Any) -> str:
    value = _require_nonempty(value)
    _check_length(value, MAX_HUB_LENGTH)
    if not HUB_NAME.fullmatch(value):
        raise Invalid("must start with a letter and contain only letters, digits or _`,.[]")
    return value


def prefixed_hub(application: str | None, hub: str) -> str:
    """The hub as the service names it inside an application: ``lower(application)_lower(hub)``
    (the Management SDK's GetPrefixedHubName; clients negotiate to this name too)."""
    return f"{application.lower()}_{hub.lower()}" if application else hub.lower()


def _check_not_dot_segment(value: str) -> None:
    if value in DOT_SEGMENTS:
        raise Invalid("must not be '.' or '..' (they cannot be addressed as a path segment)")


def check_group(value: Any) -> str:
    value = _require_nonempty(value)
    _check_length(value, MAX_ID_LENGTH)
    if value.isspace():
        raise Invalid("must not be only whitespace")
    _check_not_dot_segment(value)
    return value


def _printable(value: Any, limit: int) -> str:
    """A non-empty valid string of at most ``limit`` characters, none of them a control character."""
    value = _require_nonempty(value)
    _check_length(value, limit)
    if _CONTROL.search(value):
        raise Invalid("must not contain control characters")
    return value


def check_id(value: Any) -> str:
    """User and connection ids: no control characters, so they cannot break a log line either."""
    value = _printable(value, MAX_ID_LENGTH)
    _check_not_dot_segment(value)
    return value


def check_correlation_id(value: Any) -> str:
    """A queue message's ``id``: logged with every outcome, so no control characters."""
    return _printable(value, MAX_CORRELATION_ID)


def check_tenant(value: Any) -> str:
    """A tenant id (a queued command's ``tenant``): a GUID, compared in lower case."""
    value = _require_nonempty(value)
    if not _GUID.fullmatch(value):
        raise Invalid("must be a tenant id (a GUID)")
    return value.lower()


def check_excluded(values: Any) -> list[str]:
    if not isinstance(values, list):
        raise Invalid("must be a list of connection ids")
    if len(values) > MAX_EXCLUDED:
        raise Invalid(f"must list at most {MAX_EXCLUDED} connection ids")
    for index, value in enumerate(values):
        try:
            check_id(value)
        except Invalid as e:
            raise Invalid(f"item {index} {e}") from None
    return values


# Text longer than this is never a number any rule accepts: refused before int() sees it (which
# raises ValueError past 4,300 digits, and costs quadratic time well before that).
MAX_NUMBER_DIGITS = 20


def digits_value(text: str, max_digits: int = MAX_NUMBER_DIGITS) -> int | None:
    """The whole number ``text`` spells in ASCII digits (at most ``max_digits`` of them), else None.

    The one place caller-supplied text becomes an int: the length is checked before conversion,
    and only ASCII digits count (``str.isdigit`` also says yes to "²", which ``int`` refuses).
    """
    if len(text) > max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)


def check_ttl(value: Any) -> int:
    # Queue messages carry a JSON number; HTTP carries text. bool is an int in Python: refuse it.
    if isinstance(value, str):
        value = digits_value(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("must be a whole number of seconds")
    if not 0 <= value <= MAX_TTL_SECONDS:
        raise Invalid(f"must be between 0 and {MAX_TTL_SECONDS} seconds")
    return value


def check_reason(value: Any) -> str:
    value = require_text(value)
    _check_length(value, MAX_REASON_LENGTH)
    return value


_ID_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": _NO_CONTROLS,
              **_NOT_DOT_SEGMENT}

HUB = Rule(check_hub, {"type": "string", "minLength": 1, "maxLength": MAX_HUB_LENGTH, "pattern": HUB_PATTERN})
GROUP = Rule(check_group, {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH, "pattern": NOT_BLANK,
                           **_NOT_DOT_SEGMENT})
ID = Rule(check_id, _ID_SCHEMA)
EXCLUDED = Rule(check_excluded, {"type": "array", "items": _ID_SCHEMA, "maxItems": MAX_EXCLUDED})
TTL = Rule(check_ttl, {"type": "integer", "minimum": 0, "maximum": MAX_TTL_SECONDS})
REASON = Rule(check_reason, {"type": "string", "maxLength": MAX_REASON_LENGTH})
CORRELATION_ID = Rule(check_correlation_id, {"type": "string", "minLength": 1, "maxLength": MAX_CORRELATION_ID,
                                             "pattern": _NO_CONTROLS})
TENANT = Rule(check_tenant, {"type": "string", "format": "uuid"})


# Paging and filters (2024-12-01 operations) -------------------------------------------------

MAX_PAGE_SIZE = 200
MAX_TOP = 2**31 - 1
MAX_CONTINUATION_TOKEN = 4096
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def _whole_number(value: Any, low: int, high: int) -> int:
    if isinstance(value, str):
        value = digits_value(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("must be a whole number")
    if not low <= value <= high:
        raise Invalid(f"must be between {low} and {high}")
    return value


def check_page_size(value: Any) -> int:
    return _whole_number(value, 1, MAX_PAGE_SIZE)


def check_top(value: Any) -> int:
    return _whole_number(value, 1, MAX_TOP)


def check_continuation_token(value: Any) -> str:
    """A facade continuation token's form only: the facade then opens its seal against the listing
    it is sent with (functions/core/page_token.py), before anything is sent upstream."""
    value = _require_nonempty(value)
    _check_length(value, MAX_CONTINUATION_TOKEN)
    if not _TOKEN.fullmatch(value):
        raise Invalid("is not a continuation token this facade issued")
    return value


def check_filter_text(value: Any) -> str:
    value = require_text(value)
    try:
        return check_filter(value)
    except FilterError as e:
        raise Invalid(str(e)) from None


PAGE_SIZE = Rule(check_page_size, {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE})
TOP = Rule(check_top, {"type": "integer", "minimum": 1, "maximum": MAX_TOP})
CONTINUATION_TOKEN = Rule(check_continuation_token, {"type": "string", "minLength": 1,
                                                     "maxLength": MAX_CONTINUATION_TOKEN,
                                                     "pattern": "^[A-Za-z0-9_-]+$"})
FILTER = Rule(check_filter_text, {"type": "string", "minLength": 1, "maxLength": MAX_FILTER_LENGTH})
