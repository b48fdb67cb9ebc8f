"""Inline route constraints of ASP.NET Core routing, which the Functions host uses.

Each constraint becomes a predicate on the decoded route value. Parsing follows .NET's
invariant-culture rules closely enough for routing (leading/trailing spaces and a sign are
accepted for numbers, as ``int.TryParse`` does); an unknown constraint is a template error,
as it is when the host indexes the function.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

Predicate = Callable[[str], bool]

_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_DECIMAL = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")
_FLOAT = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$|^\s*(NaN|[+-]?Infinity)\s*$")
_HEX = r"[0-9a-fA-F]"
_GUID_D = rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_GUID = re.compile(rf"^\s*({_HEX}{{32}}|{_GUID_D}|\{{{_GUID_D}\}}|\({_GUID_D}\))\s*$")
_DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d")


def _integer(bits: int) -> Predicate:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: str) -> bool:
        return bool(_INTEGER.match(value)) and low <= int(value) <= high

    return check


def _is_datetime(value: str) -> bool:
    text = value.strip()
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            datetime.strptime(text, fmt)
            return True
        except ValueError:
            continue
    return False


def _long_value(value: str) -> int | None:
    return int(value) if _INTEGER.match(value) else None


def _bounded(low: int | None, high: int | None) -> Predicate:
    def check(value: str) -> bool:
        number = _long_value(value)
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number <= high)

    return check


def _length(low: int, high: int | None) -> Predicate:
    return lambda value: len(value) >= low and (high is None or len(value) <= high)


def _is_file(value: str) -> bool:
    # ASP.NET's FileNameRouteConstraint: the last path segment has a dot with text after it.
    last = value.rsplit("/", 1)[-1]
    dot = last.rfind(".")
    return 0 <= dot < len(last) - 1


_SIMPLE: dict[str, Predicate] = {
    "int": _integer(32),
    "long": _integer(64),
    "bool": lambda v: v.strip().lower() in ("true", "false"),
    "decimal": lambda v: bool(_DECIMAL.match(v)),
    "double": lambda v: bool(_FLOAT.match(v)),
    "float": lambda v: bool(_FLOAT.match(v)),
    "guid": lambda v: bool(_GUID.match(v)),
    "datetime": _is_datetime,
    "alpha": lambda v: re.fullmatch(r"[a-zA-Z]*", v) is not None,
    "required": lambda v: v != "",
    "file": _is_file,
    "nonfile": lambda v: not _is_file(v),
}


def _ints(args: str, name: str, count: int) -> list[int]:
    items = [a.strip() for a in args.split(",")]
    if len(items) != count or not all(_INTEGER.match(a) for a in items):
        raise ValueError(f"constraint {name}({args}) needs {count} integer argument(s)")
    return [int(a) for a in items]


def build_constraint(text: str) -> Predicate:
    """Predicate for one constraint such as ``int``, ``min(1)`` or ``regex(^a+$)``."""
    name, _, args = text.partition("(")
    name = name.strip().lower()
    if not _:
        if name in _SIMPLE:
            return _SIMPLE[name]
        raise ValueError(f"unknown route constraint {text!r}")
    if not args.endswith(")"):
        raise ValueError(f"bad route constraint {text!r}")
    args = args[:-1]
    if name == "regex":
        # ASP.NET evaluates regex constraints case-insensitively and unanchored.
        pattern = re.compile(args, re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    if name == "min":
        return _bounded(_ints(args, name, 1)[0], None)
    if name == "max":
        return _bounded(None, _ints(args, name, 1)[0])
    if name == "range":
        low, high = _ints(args, name, 2)
        return _bounded(low, high)
    if name == "minlength":
        return _length(_ints(args, name, 1)[0], None)
    if name == "maxlength":
        return _length(0, _ints(args, name, 1)[0])
    if name == "length":
        numbers = _ints(args, name, args.count(",") + 1)
        if len(numbers) == 1:
            return _length(numbers[0], numbers[0])
        if len(numbers) == 2:
            return _length(numbers[0], numbers[1])
    raise ValueError(f"unknown route constraint {text!r}")
