"""Route templates, as far as this app uses them: literal segments, ``{name}`` parameters and one
trailing ``{*name}`` catch-all (the app's lowest-precedence function, functions/http/fallback.py).

The Functions host reads routes with ASP.NET Core's template syntax, which has much more
(optional and default values, catch-alls, complex segments, inline constraints such as
``{id:int}``). This app's routes use only literals (``v1``, ``health``, ``openapi.json``,
``:execute``-style action segments) and whole-segment parameters (``{hub}``), so that is all
the local host implements. Any other form is refused when the app is indexed, naming the
function and the feature, so a new route never routes silently differently here than on Azure.
Syntax: https://learn.microsoft.com/aspnet/core/fundamentals/routing#route-templates

Matching works on the *decoded* path segments: the raw path is split on ``/`` first and every
segment is percent-decoded on its own, so ``a%2Fb`` stays one value ``a/b`` (what Core Tools
does locally; behind Azure's front end an encoded slash may 404 instead). Literals compare
case-insensitively and a parameter never matches an empty segment, as in ASP.NET.

Candidates are tried in ASP.NET's inbound precedence, segment by segment: a literal before a
parameter (``.../groups/{group}/users`` before ``.../groups/{group}/{other}``). With only these two
forms that is the whole of ASP.NET's ordering; equal templates keep registration order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAMETER = re.compile(r"^\{(\w+)\}$")
_CATCH_ALL = re.compile(r"^\{\*{1,2}(\w+)\}$")
_LITERAL_RANK, _PARAMETER_RANK, _CATCH_ALL_RANK = 1, 2, 5  # ASP.NET's precedence digits for these forms


class RouteTemplateError(ValueError):
    """A route template this host cannot serve: malformed, or a feature the app does not use."""


@dataclass(frozen=True)
class Param:
    name: str
    catch_all: bool = False  # {*name}: the rest of the path, zero or more segments (last segment only)


@dataclass(frozen=True)
class RouteTemplate:
    text: str
    segments: tuple[str | Param, ...]

    @property
    def precedence(self) -> tuple[int, ...]:
        """Sort key: lower is tried first (ASP.NET compares these digits as a decimal 0.d1d2...)."""
        return tuple((_CATCH_ALL_RANK if s.catch_all else _PARAMETER_RANK) if isinstance(s, Param) else _LITERAL_RANK
                     for s in self.segments)

    def match(self, path_segments: list[str]) -> dict[str, str] | None:
        """Route values for decoded ``path_segments``, or None when the template does not match."""
        values: dict[str, str] = {}
        last = self.segments[-1] if self.segments else None
        if isinstance(last, Param) and last.catch_all:
            fixed = len(self.segments) - 1
            if len(path_segments) < fixed:
                return None
            rest = path_segments[fixed:]
            if rest:
                values[last.name] = "/".join(rest)
            head = RouteTemplate(self.text, self.segments[:fixed]).match(path_segments[:fixed])
            return None if head is None else {**head, **values}
        if len(path_segments) != len(self.segments):
            return None
        for segment, value in zip(self.segments, path_segments, strict=True):
            if isinstance(segment, Param):
                if value == "":
                    return None
                values[segment.name] = value
            elif value.lower() != segment.lower():
                return None
        return values


def parse_template(text: str) -> RouteTemplate:
    """Parse a Functions route template (without the routePrefix); RouteTemplateError names what is wrong."""
    body = text.strip().strip("/")
    segments: list[str | Param] = []
    for raw in body.split("/") if body else []:
        segments.append(_parse_segment(raw, text))
    if any(isinstance(s, Param) and s.catch_all for s in segments[:-1]):
        raise RouteTemplateError(f"route {text!r}: a catch-all parameter must be the last segment")
    names = [s.name for s in segments if isinstance(s, Param)]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise RouteTemplateError(f"route {text!r}: the parameter {{{duplicate}}} appears twice")
    return RouteTemplate(text=text, segments=tuple(segments))


def _parse_segment(raw: str, template: str) -> str | Param:
    if raw == "":
        raise RouteTemplateError(f"route {template!r}: empty segment")
    if "{" not in raw and "}" not in raw:
        return raw
    found = _PARAMETER.match(raw)
    if found is not None:
        return Param(found.group(1))
    found = _CATCH_ALL.match(raw)
    if found is not None:
        return Param(found.group(1), catch_all=True)
    raise RouteTemplateError(
        f"route {template!r}: {_unsupported(raw)} in segment {raw!r} is not supported by the local host "
        "(it serves literal segments, {name} parameters and a trailing {*name}; see docs/development/local-host.md)"
    )


def _unsupported(raw: str) -> str:
    """Name the ASP.NET template feature a segment uses, for the load-time error."""
    start = raw.find("{")
    after = raw[start:] if start >= 0 else ""
    if after.startswith("{*"):
        return "a catch-all parameter"
    if ":" in after and not after.startswith("{{"):
        return "an inline constraint"
    if "{{" in raw or "}}" in raw:
        return "an escaped brace"
    if start < 0 or "}" not in after:
        return "an unbalanced brace"
    if raw.count("{") > 1 or not (raw.startswith("{") and raw.endswith("}")):
        return "a complex segment (a parameter with text beside it)"
    inner = raw[1:-1]
    if "=" in inner:
        return "a default value"
    if inner.endswith("?"):
        return "an optional parameter"
    return "a parameter name that is not a word"
