"""The ``filter`` of ``:execute``: checked against the documented grammar before anything goes upstream.

Grammar: the OData subset of "OData filter syntax in the Azure Web PubSub service"
(https://learn.microsoft.com/azure/azure-web-pubsub/reference-odata-filter), which the SignalR
REST API's ``filter`` parameter uses too:

- identifiers ``userId`` and ``connectionId`` (strings) and ``groups`` (a collection);
- ``and``, ``or``, ``not``; ``eq ne gt ge lt le``; ``in`` with a parenthesized list or ``groups``;
- literals: ``'text'`` (``''`` is a quote), integers, ``true``, ``false``, ``null``;
- functions ``tolower toupper trim substring concat indexof length contains startswith endswith``;
- precedence, tightest first: ``not``, comparisons, ``and``, ``or``.

Every expression is type-checked as the service does (``not length(userId) gt 5`` is refused:
``not`` binds to ``length(userId)``, an integer). The parser is recursive descent with an
explicit depth bound, and the input is capped in length before it is read, so a hostile
filter (deep nesting, huge literals, an unterminated quote) is a clear error, never a crash
or a hang. ``FilterError`` says what broke and at which character (1-based).
"""

from __future__ import annotations

from collections.abc import Callable

from functions.catalog.odata.tokens import FilterError, Token, tokenize

MAX_FILTER_LENGTH = 2048
MAX_DEPTH = 32  # nested parentheses, nots and function calls

STRING_IDENTIFIERS = frozenset({"userId", "connectionId"})
COLLECTION_IDENTIFIERS = frozenset({"groups"})
COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"}) | COMPARISONS

# Types of expressions.
BOOL, STRING, INT, NULL, COLLECTION = "boolean", "string", "integer", "null", "collection"
PRIMITIVE = frozenset({BOOL, STRING, INT, NULL})

# name -> (argument kinds, result); "s" a string expression, "i" an integer literal, "sc" a string
# or a collection; a trailing "?" marks an optional argument.
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "tolower": (("s",), STRING),
    "toupper": (("s",), STRING),
    "trim": (("s",), STRING),
    "substring": (("s", "i", "i?"), STRING),
    "concat": (("s", "s"), STRING),
    "indexof": (("s", "s"), INT),
    "contains": (("s", "s"), BOOL),
    "startswith": (("s", "s"), BOOL),
    "endswith": (("s", "s"), BOOL),
    "length": (("sc",), INT),
}


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_word(self, *words: str) -> bool:
        return self.current.kind == "word" and self.current.text in words

    def expect(self, kind: str, what: str) -> Token:
        if self.current.kind != kind:
            raise FilterError(f"expected {what}, found {self.current.describe()}", self.current.position)
        return self.advance()

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(f"the filter nests deeper than {MAX_DEPTH} levels", token.position)

    def leave(self) -> None:
        self.depth -= 1

    @staticmethod
    def require(actual: str, wanted: frozenset[str] | set[str], token: Token, role: str) -> None:
        if actual not in wanted:
            expected = " or ".join(sorted(wanted))
            raise FilterError(f"{role} must be {expected}, not {actual}", token.position)

    # or_expr := and_expr ('or' and_expr)*
    def or_expression(self) -> str:
        return self.logical("or", self.and_expression)

    # and_expr := comparison ('and' comparison)*
    def and_expression(self) -> str:
        return self.logical("and", self.comparison)

    def logical(self, word: str, operand: Callable[[], str]) -> str:
        """``operand (word operand)*``, every operand a boolean when there is more than one."""
        start = self.current
        kind = operand()
        while self.is_word(word):
            self.advance()
            self.require(kind, {BOOL}, start, f"the left side of '{word}'")
            start = self.current
            self.require(operand(), {BOOL}, start, f"the right side of '{word}'")
            kind = BOOL
        return kind

    # comparison := unary ((eq|ne|gt|ge|lt|le) unary | 'in' in_operand)?
    def comparison(self) -> str:
        start = self.current
        left = self.unary()
        if self.current.kind == "word" and self.current.text in COMPARISONS:
            operator = self.advance()
            self.require(left, PRIMITIVE, start, f"the left side of '{operator.text}'")
            right_start = self.current
            right = self.unary()
            self.require(right, PRIMITIVE, right_start, f"the right side of '{operator.text}'")
            self._check_comparable(operator, left, right)
            return BOOL
        if self.is_word("in"):
            operator = self.advance()
            self.require(left, PRIMITIVE - {BOOL}, start, "the left side of 'in'")
            self.in_operand(operator)
            return BOOL
        return left

    @staticmethod
    def _check_comparable(operator: Token, left: str, right: str) -> None:
        if operator.text in ("eq", "ne"):
            if NULL in (left, right) or left == right:
                return
        elif left == right and left in (STRING, INT):
            return
        raise FilterError(f"'{operator.text}' cannot compare {left} with {right}", operator.position)

    # in_operand := '(' expr (',' expr)* ')' | collection, where a one-item list may be a collection
    def in_operand(self, operator: Token) -> None:
        if self.current.kind != "(":
            start = self.current
            self.require(self.primary(), {COLLECTION}, start, "the right side of 'in'")
            return
        opening = self.advance()
        self.enter(opening)
        items = []
        while True:
            start = self.current
            items.append((self.or_expression(), start))
            if self.current.kind == ",":
                self.advance()
                continue
            self.expect(")", "',' or ')'")
            break
        self.leave()
        if len(items) == 1 and items[0][0] == COLLECTION:
            return
        for kind, start in items:
            self.require(kind, PRIMITIVE, start, "an item of the 'in' list")

    # unary := 'not' unary | primary
    def unary(self) -> str:
        if self.is_word("not"):
            operator = self.advance()
            self.enter(operator)
            start = self.current
            self.require(self.unary(), {BOOL}, start, "the operand of 'not' (put a comparison in parentheses)")
            self.leave()
            return BOOL
        return self.primary()

    def primary(self) -> str:
        token = self.current
        if token.kind == "(":
            self.advance()
            self.enter(token)
            kind = self.or_expression()
            self.expect(")", "')'")
            self.leave()
            return kind
        if token.kind == "string":
            self.advance()
            return STRING
        if token.kind == "integer":
            self.advance()
            return INT
        if token.kind == "word":
            word = token.text
            if word in ("true", "false"):
                self.advance()
                return BOOL
            if word == "null":
                self.advance()
                return NULL
            if word in STRING_IDENTIFIERS:
                self.advance()
                return STRING
            if word in COLLECTION_IDENTIFIERS:
                self.advance()
                return COLLECTION
            if word in FUNCTIONS:
                return self.function_call()
            if word in KEYWORDS:
                raise FilterError(f"expected a value, found the operator '{word}'", token.position)
            raise FilterError(
                f"unknown name '{word[:40]}': use userId, connectionId, groups or a documented function",
                token.position,
            )
        raise FilterError(f"expected a value, found {token.describe()}", token.position)

    def function_call(self) -> str:
        name = self.advance()
        kinds, result = FUNCTIONS[name.text]
        opening = self.expect("(", f"'(' after {name.text}")
        self.enter(opening)
        for index, kind in enumerate(kinds):
            optional = kind.endswith("?")
            if index:
                if optional and self.current.kind == ")":
                    break
                self.expect(",", f"',' before argument {index + 1} of {name.text}")
            start = self.current
            role = f"argument {index + 1} of {name.text}"
            if kind.startswith("i"):
                self.expect("integer", f"an integer literal as {role}")
            else:
                allowed = {STRING, NULL} | ({COLLECTION} if kind == "sc" else set())
                self.require(self.or_expression(), allowed, start, role)
        self.expect(")", f"')' to close {name.text}")
        self.leave()
        return result


def check_filter(text: str) -> str:
    """Return ``text`` when it is a valid filter; raise ``FilterError`` saying where it is not."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_FILTER_LENGTH} characters", MAX_FILTER_LENGTH + 1)
    for index, char in enumerate(text):
        if ord(char) < 0x20 and char != "\t" or 0x7F <= ord(char) <= 0x9F:
            raise FilterError("control characters are not allowed", index + 1)
    parser = _Parser(tokenize(text))
    start = parser.current
    if start.kind == "end":
        raise FilterError("the filter is empty", 1)
    kind = parser.or_expression()
    if parser.current.kind != "end":
        raise FilterError(f"expected 'and', 'or' or the end, found {parser.current.describe()}",
                          parser.current.position)
    if kind != BOOL:
        raise FilterError(f"a filter must be a true/false expression, not {kind}", start.position)
    return text
