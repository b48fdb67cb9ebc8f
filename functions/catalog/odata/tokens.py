"""Tokens of the ``:execute`` filter (see ``odata_filter``): a linear scan, no backtracking.

String literals are ``'...'`` with ``''`` for a quote; integers are 32-bit with an optional
sign; words are ASCII identifiers, keywords and function names. Every token keeps its
1-based position so an error can say where the filter broke.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_INTEGER = 2**31 - 1


class FilterError(ValueError):
    """Raised when a filter breaks the grammar; the message names the character where it broke."""

    def __init__(self, message: str, position: int) -> None:
        self.position = position  # 1-based
        super().__init__(f"at character {position}: {message}")


@dataclass(frozen=True)
class Token:
    kind: str  # "(" ")" "," "string" "integer" "word" "end"
    text: str
    position: int  # 1-based
    value: object = None

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the filter"
        shown = self.text if len(self.text) <= 24 else self.text[:21] + "..."
        return f"the string {shown}" if self.kind == "string" else f"'{shown}'"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        start = index + 1
        if char in " \t":
            index += 1
        elif char in "(),":
            tokens.append(Token(char, char, start))
            index += 1
        elif char == "'":
            chunks, index = [], index + 1
            while True:
                close = text.find("'", index)
                if close < 0:
                    raise FilterError("a string literal is not closed (quote a ' inside one as '')", start)
                chunks.append(text[index:close])
                if text.startswith("'", close + 1):  # '' is a quote inside the literal
                    chunks.append("'")
                    index = close + 2
                    continue
                index = close + 1
                break
            tokens.append(Token("string", text[start - 1:index], start, "".join(chunks)))
        elif char.isascii() and (char.isdigit() or char in "+-"):
            end = index + 1
            while end < length and text[end].isascii() and text[end].isdigit():
                end += 1
            literal = text[index:end]
            if literal in ("+", "-"):
                raise FilterError("a sign must be followed by digits", start)
            # Length first: int() of thousands of digits raises (or takes quadratic time).
            value = int(literal) if len(literal) <= 12 else MAX_INTEGER + 1
            if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
                raise FilterError("an integer is outside the 32-bit range", start)
            tokens.append(Token("integer", literal, start, value))
            index = end
        elif char.isascii() and (char.isalpha() or char == "_"):
            end = index + 1
            while end < length and text[end].isascii() and (text[end].isalnum() or text[end] == "_"):
                end += 1
            tokens.append(Token("word", text[index:end], start))
            index = end
        else:
            raise FilterError(f"unexpected character {char!r}", start)
    tokens.append(Token("end", "", length + 1))
    return tokens
