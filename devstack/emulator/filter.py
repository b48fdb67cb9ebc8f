"""The service's connection filter (the OData subset of the Web PubSub filter docs), evaluated.

Written apart from the facade's checker on purpose, so each tests the other: a regular
expression tokenizer, then precedence climbing into closures over a connection view.
Reference: https://learn.microsoft.com/azure/azure-web-pubsub/reference-odata-filter
Comparisons are ordinal (case-sensitive): the docs' own examples use ``tolower`` to ignore case.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 4096
MAX_NESTING = 64

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>[+-]?\d+)|(?P<word>[A-Za-z_]\w*)|(?P<sym>[(),]))""")


class FilterSyntaxError(ValueError):
    """Raised for a filter the service would refuse (400)."""


@dataclass(frozen=True)
class View:
    """What a filter can see of a connection."""

    userId: str | None
    connectionId: str
    groups: frozenset[str]


Expr = Callable[[View], Any]


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    position = 0
    stripped_end = len(text.rstrip())
    while position < stripped_end:
        match = _TOKEN.match(text, position)
        if match is None:
            raise FilterSyntaxError(f"Invalid syntax near position {position}.")
        position = match.end()
        if match["str"] is not None:
            out.append(("value", match["str"][1:-1].replace("''", "'")))
        elif match["num"] is not None:
            out.append(("value", int(match["num"])))
        elif match["word"] is not None:
            out.append(("word", match["word"]))
        else:
            out.append((match["sym"], match["sym"]))
    out.append(("eof", None))
    return out


def _ordinal(op: str) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if op == "eq":
            return a == b
        if op == "ne":
            return a != b
        if a is None or b is None or type(a) is not type(b):
            return False
        return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]

    return compare


def _str_fn(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args: None if args[0] is None else fn(*args)


FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "tolower": (1, 1, _str_fn(str.lower)),
    "toupper": (1, 1, _str_fn(str.upper)),
    "trim": (1, 1, _str_fn(str.strip)),
    "length": (1, 1, lambda v: None if v is None else len(v)),
    "substring": (2, 3, _str_fn(lambda s, start, n=None: s[start:] if n is None else s[start:start + n])),
    "concat": (2, 2, lambda a, b: (a or "") + (b or "")),
    "indexof": (2, 2, lambda a, b: -1 if a is None or b is None else a.find(b)),
    "contains": (2, 2, lambda a, b: a is not None and b is not None and b in a),
    "startswith": (2, 2, lambda a, b: a is not None and b is not None and a.startswith(b)),
    "endswith": (2, 2, lambda a, b: a is not None and b is not None and a.endswith(b)),
}
BINARY = {"or": 1, "and": 2, "eq": 3, "ne": 3, "gt": 3, "ge": 3, "lt": 3, "le": 3, "in": 3}


class _Compiler:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.nesting = 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.at]

    def take(self, kind: str | None = None) -> tuple[str, Any]:
        token = self.tokens[self.at]
        if kind is not None and token[0] != kind:
            raise FilterSyntaxError(f"Invalid syntax: expected '{kind}' at token {self.at + 1}.")
        self.at += 1
        return token

    def deeper(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise FilterSyntaxError("The filter is too complex.")

    def expression(self, min_precedence: int = 1) -> Expr:
        left = self.operand()
        while True:
            kind, word = self.peek()
            precedence = BINARY.get(word) if kind == "word" else None
            if precedence is None or precedence < min_precedence:
                return left
            self.take()
            if word == "in":
                left = self.membership(left)
                continue
            right = self.expression(precedence + 1)
            if word == "and":
                left = (lambda a, b: lambda v: bool(a(v)) and bool(b(v)))(left, right)
            elif word == "or":
                left = (lambda a, b: lambda v: bool(a(v)) or bool(b(v)))(left, right)
            else:
                left = (lambda a, b, f: lambda v: f(a(v), b(v)))(left, right, _ordinal(word))

    def parenthesised_list(self) -> list[Expr]:
        """``( expression (, expression)* )``: a list after 'in', or a function's arguments."""
        self.take("(")
        self.deeper()
        items = [self.expression()]
        while self.peek()[0] == ",":
            self.take()
            items.append(self.expression())
        self.take(")")
        self.nesting -= 1
        return items

    def membership(self, left: Expr) -> Expr:
        if self.peek() == ("word", "groups"):
            self.take()
            return lambda v: left(v) in v.groups
        items = self.parenthesised_list()
        if len(items) == 1:
            only = items[0]
            return lambda v: (lambda r: left(v) in r if isinstance(r, frozenset) else left(v) == r)(only(v))
        return lambda v: left(v) in [item(v) for item in items]

    def operand(self) -> Expr:
        kind, value = self.take()
        if kind == "value":
            return lambda v: value
        if kind == "(":
            self.deeper()
            inner = self.expression()
            self.take(")")
            self.nesting -= 1
            return inner
        if kind != "word":
            raise FilterSyntaxError(f"Invalid syntax at token {self.at}.")
        if value == "not":
            self.deeper()
            inner = self.operand()
            self.nesting -= 1
            return lambda v: not inner(v)
        constants = {"true": True, "false": False, "null": None}
        if value in constants:
            constant = constants[value]
            return lambda v: constant
        if value in ("userId", "connectionId", "groups"):
            return lambda v: getattr(v, value)
        if value in FUNCTIONS:
            low, high, fn = FUNCTIONS[value]
            args = self.parenthesised_list()
            if not low <= len(args) <= high:
                raise FilterSyntaxError(f"Invalid number of arguments for '{value}'.")
            return lambda v: fn(*(a(v) for a in args))
        raise FilterSyntaxError(f"Unknown identifier '{value[:40]}'.")


def compile_filter(text: str) -> Expr:
    """A predicate over ``View``; raises ``FilterSyntaxError`` as the service answers 400."""
    if len(text) > MAX_LENGTH:
        raise FilterSyntaxError("The filter is too long.")
    compiler = _Compiler(text)
    predicate = compiler.expression()
    if compiler.peek()[0] != "eof":
        raise FilterSyntaxError(f"Invalid syntax: unexpected token {compiler.at + 1}.")
    return lambda view: predicate(view) is True
