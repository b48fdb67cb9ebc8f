"""Decode untrusted JSON as I-JSON (RFC 7493): the one place where input text becomes data.

Every entry point (HTTP bodies, queue messages, batches, upstream events) decodes through
``decode_json``, so one set of rules holds everywhere:

- UTF-8 text, at most the caller's byte limit;
- no duplicate object keys, no NaN or Infinity;
- at most ``MAX_DEPTH`` levels of arrays and objects. The C parser guards its own
  recursion (``RecursionError`` at the interpreter's limit, caught here) and the depth of
  what it returns is then measured without recursion, so no input can exhaust the stack
  here or in an encoder later;
- every string, key or value, valid Unicode: a ``\\ud800`` escape with no partner decodes
  to a lone surrogate that cannot be sent as UTF-8, so it is refused with its location.

Failures are ``ValueError`` subclasses carrying a message that is safe to show.
"""

from __future__ import annotations

import json
import re
from typing import Any

from functions.catalog.rules import is_valid_unicode

MAX_DEPTH = 64

# Only a \u escape in the D800-DFFF range can produce a surrogate (UTF-8 decoding refuses
# encoded ones), so text without such an escape needs no walk.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonInputError(ValueError):
    """Raised when input text is not acceptable JSON; the message says why and where."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # dict() runs in C; only an object that lost keys to duplicates pays for the Python walk
    # (a large batch decodes several times faster than with a per-key loop).
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise JsonInputError(f"duplicate key {key[:64]!r}")
            seen.add(key)
    return result


def _no_constants(name: str) -> Any:
    raise JsonInputError(f"{name} is not valid JSON")


# One decoder for every call: json.loads with hooks would build a new one on every call, a cost paid per request.
_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicate_keys, parse_constant=_no_constants)


def nesting_depth(value: Any) -> int:
    """The deepest level of arrays and objects in decoded JSON (0 for a scalar), without recursion.

    Level by level: each array or object is visited once and scalars are only type-checked, in
    a comprehension (the decoder builds plain dicts and lists only).
    """
    depth = 0
    level = [value] if type(value) is dict or type(value) is list else []
    while level:
        depth += 1
        next_level: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            next_level.extend([child for child in children if type(child) is dict or type(child) is list])
        level = next_level
    return depth


def find_invalid_string(value: Any) -> str | None:
    """The JSON path of the first key or string that is not valid Unicode, else None (iterative)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not is_valid_unicode(item):
                return path or "(value)"
        elif isinstance(item, dict):
            for key, child in item.items():
                if not is_valid_unicode(key):
                    return f"{path}.(key)" if path else "(key)"
                stack.append((f"{path}.{key}" if path else key, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
    return None


def decode_json(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode ``raw`` under the rules above; raise ``JsonInputError`` naming what is wrong."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonInputError("is not UTF-8 text") from None
    else:
        text = raw
        if not is_valid_unicode(text):
            raise JsonInputError("is not valid Unicode text")
    too_deep = JsonInputError(f"nests arrays and objects deeper than {max_depth} levels")
    try:
        data = _DECODER.decode(text)
    except JsonInputError:
        raise
    except RecursionError:
        raise too_deep from None
    except ValueError as e:
        # json.JSONDecodeError's message names a position, never echoes the input.
        raise JsonInputError(f"is not valid JSON: {e}") from None
    # Fewer brackets than the limit cannot nest deeper than it: skip the walk for small documents.
    if text.count("[") + text.count("{") > max_depth and nesting_depth(data) > max_depth:
        raise too_deep
    if _SURROGATE_ESCAPE.search(text):
        where = find_invalid_string(data)
        if where is not None:
            raise JsonInputError(f"holds a string that is not valid Unicode (an unpaired surrogate) at {where[:200]}")
    return data
