"""Route templates as the Functions host reads them (ASP.NET Core route template syntax).

Supported: literal segments (case-insensitive), ``{name}``, ``{name?}``, ``{name=default}``,
``{*rest}`` / ``{**rest}`` catch-alls, complex segments such as ``{file}.{ext}``, ``{{``/``}}``
escapes and the inline constraints of ASP.NET Core routing (``:int``, ``:regex(...)``,
``:min(1)``, ... chained as ``{id:int:min(1)}``).

Matching works on the *decoded* path segments: the raw path is split on ``/`` first and every
segment is percent-decoded on its own, so ``a%2Fb`` stays one value ``a/b`` (what Core Tools
does locally; behind Azure's front end an encoded slash may 404 instead).
Candidates are tried in ASP.NET's inbound precedence: literal, complex, constrained
parameter, parameter, catch-all, segment by segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from devstack.host.constraints import build_constraint


class RouteTemplateError(ValueError):
    """Raised when a route template cannot be parsed or names an unknown constraint."""


@dataclass(frozen=True)
class Param:
    name: str
    catch_all: bool = False
    optional: bool = False
    default: str | None = None
    constraints: tuple[Callable[[str], bool], ...] = ()


@dataclass(frozen=True)
class Segment:
    parts: tuple[str | Param, ...]

    @property
    def single_param(self) -> Param | None:
        if len(self.parts) == 1 and isinstance(self.parts[0], Param):
            return self.parts[0]
        return None

    def precedence(self) -> int:
        param = self.single_param
        if param is None:
            return 2 if any(isinstance(p, Param) for p in self.parts) else 1
        if param.catch_all:
            return 5
        return 3 if param.constraints else 4

    def complex_pattern(self) -> re.Pattern[str]:
        # Complex segments ({a}.{b}, file-{name}) are matched lazily left to right;
        # ASP.NET scans right to left for the last literal, which agrees on ordinary names.
        regex = "".join(
            f"(?P<p{i}>.+?)" if isinstance(p, Param) else re.escape(p) for i, p in enumerate(self.parts)
        )
        return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class RouteTemplate:
    text: str
    segments: tuple[Segment, ...]
    precedence: Decimal = field(default=Decimal(0))

    def match(self, path_segments: list[str]) -> dict[str, str] | None:
        """Route values for decoded ``path_segments``, or None when the template does not match."""
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            param = segment.single_param
            if param is not None and param.catch_all:
                rest = path_segments[index:]
                if rest:
                    values[param.name] = "/".join(rest)
                elif param.default is not None:
                    values[param.name] = param.default
                return values if _constraints_hold(self.segments, values) else None
            if index >= len(path_segments):
                if param is None or not (param.optional or param.default is not None):
                    return None
                if param.default is not None:
                    values[param.name] = param.default
                continue
            value = path_segments[index]
            if param is not None:
                if value == "":
                    return None
                values[param.name] = value
            elif not _match_parts(segment, value, values):
                return None
        if len(path_segments) > len(self.segments):
            return None
        return values if _constraints_hold(self.segments, values) else None


def _match_parts(segment: Segment, value: str, values: dict[str, str]) -> bool:
    if all(isinstance(p, str) for p in segment.parts):
        return value.lower() == "".join(segment.parts).lower()  # type: ignore[arg-type]
    found = segment.complex_pattern().match(value)
    if found is None:
        return False
    for i, part in enumerate(segment.parts):
        if isinstance(part, Param):
            values[part.name] = found.group(f"p{i}")
    return True


def _constraints_hold(segments: Iterable[Segment], values: dict[str, str]) -> bool:
    for segment in segments:
        for part in segment.parts:
            if isinstance(part, Param) and part.name in values:
                if not all(check(values[part.name]) for check in part.constraints):
                    return False
    return True


def parse_template(text: str) -> RouteTemplate:
    """Parse a Functions route template (without the routePrefix)."""
    body = text.strip()
    if body.startswith("~/"):
        body = body[2:]
    body = body.strip("/")
    segments = tuple(_parse_segment(raw, text) for raw in _split_segments(body)) if body else ()
    for i, seg in enumerate(segments):
        param = seg.single_param
        if param is not None and param.catch_all and i != len(segments) - 1:
            raise RouteTemplateError(f"route {text!r}: a catch-all parameter must be the last segment")
        if len(seg.parts) > 1 and any(isinstance(p, Param) and p.catch_all for p in seg.parts):
            raise RouteTemplateError(f"route {text!r}: a catch-all parameter must be a whole segment")
    digits = "".join(str(s.precedence()) for s in segments)
    precedence = Decimal(f"0.{digits}") if digits else Decimal(0)
    return RouteTemplate(text=text, segments=segments, precedence=precedence)


def _split_segments(body: str) -> list[str]:
    # '/' inside a parameter (a regex constraint) does not split the template.
    segments, current, depth, i = [], [], 0, 0
    while i < len(body):
        ch = body[i]
        if ch in "{}" and body[i : i + 2] in ("{{", "}}"):
            current.append(body[i : i + 2])
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "/" and depth == 0:
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    segments.append("".join(current))
    return segments


def _parse_segment(raw: str, template: str) -> Segment:
    parts: list[str | Param] = []
    literal: list[str] = []
    i = 0
    while i < len(raw):
        two = raw[i : i + 2]
        if two in ("{{", "}}"):
            literal.append(two[0])
            i += 2
        elif raw[i] == "{":
            end = _param_end(raw, i + 1, template)
            if literal:
                parts.append("".join(literal))
                literal = []
            if parts and isinstance(parts[-1], Param):
                raise RouteTemplateError(f"route {template!r}: two parameters need a literal between them")
            parts.append(_parse_param(raw[i + 1 : end].replace("{{", "{").replace("}}", "}"), template))
            i = end + 1
        elif raw[i] == "}":
            raise RouteTemplateError(f"route {template!r}: unmatched '}}'")
        else:
            literal.append(raw[i])
            i += 1
    if literal:
        parts.append("".join(literal))
    if not parts:
        raise RouteTemplateError(f"route {template!r}: empty segment")
    return Segment(tuple(parts))


def _param_end(raw: str, start: int, template: str) -> int:
    i = start
    while i < len(raw):
        if raw[i : i + 2] in ("{{", "}}"):
            i += 2
        elif raw[i] == "}":
            return i
        else:
            i += 1
    raise RouteTemplateError(f"route {template!r}: unterminated parameter")


_NAME = re.compile(r"^(\*{0,2})([^:=?*{}/]+)")


def _parse_param(inner: str, template: str) -> Param:
    found = _NAME.match(inner)
    if found is None:
        raise RouteTemplateError(f"route {template!r}: bad parameter {{{inner}}}")
    stars, name = found.groups()
    rest = inner[found.end() :]
    optional = False
    default: str | None = None
    constraints: list[Callable[[str], bool]] = []
    while rest.startswith(":"):
        text, rest = _take_constraint(rest[1:])
        try:
            constraints.append(build_constraint(text))
        except ValueError as e:
            raise RouteTemplateError(f"route {template!r}: {e}") from e
    if rest.startswith("="):
        default = rest[1:]
    elif rest == "?":
        optional = True
    elif rest:
        raise RouteTemplateError(f"route {template!r}: bad parameter {{{inner}}}")
    if stars and optional:
        raise RouteTemplateError(f"route {template!r}: a catch-all parameter cannot be marked optional")
    return Param(name, bool(stars), optional, default, tuple(constraints))


def _take_constraint(text: str) -> tuple[str, str]:
    """Split ``name(args)...`` off the front: args end at a ')' followed by ':', '=', '?' or the end."""
    paren = text.find("(")
    stop = min((text.find(c) for c in ":=?" if c in text), default=len(text))
    if paren == -1 or paren > stop:
        return text[:stop], text[stop:]
    i = paren + 1
    while i < len(text):
        if text[i] == ")" and (i + 1 == len(text) or text[i + 1] in ":=?"):
            return text[: i + 1], text[i + 1 :]
        i += 1
    raise ValueError(f"unterminated constraint {text!r}")
