"""The lowest-precedence HTTP function: a path no other function serves is a problem+json 404, and a
served path asked with another method is a 405 with ``Allow`` (RFC 9110, 15.5.6), instead of the host's
bare 404 with no body.

It must be tried after every other function, on Azure as locally:
- ASP.NET Core routing (the local host, devstack/host/routing.py) orders a ``{*path}`` catch-all after
  every literal and parameter segment (https://learn.microsoft.com/aspnet/core/fundamentals/routing,
  "URL matching", route template precedence);
- the Azure Functions host does not order function routes by precedence: it tries them in the order of
  the functions' names (https://github.com/Azure/azure-functions-host/issues/9876 and /3153; the fix
  proposed in https://github.com/Azure/azure-webjobs-sdk-extensions/pull/842 is not merged). So this
  function's name sorts after every other one, ordinal and case-insensitive
  (tests/unit/http/test_fallback_route.py holds it).

The served routes and their methods are the OpenAPI document's, itself derived from the catalog.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import azure.functions as func

from functions.core.errors import FacadeError, MethodNotAllowed, NoSuchRoute
from functions.http.openapi import ROUTE_PREFIX, openapi_document
from functions.http.responses import problem_response

log = logging.getLogger(__name__)

bp = func.Blueprint()

FALLBACK_FUNCTION = "zzzNoSuchRoute"  # last by name: see the module docstring
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@lru_cache(maxsize=1)
def served_routes() -> tuple[tuple[tuple[str, ...], frozenset[str]], ...]:
    """(template segments, methods) of every served route, from the OpenAPI document."""
    routes = []
    for path, item in openapi_document()["paths"].items():
        segments = tuple(path.removeprefix(ROUTE_PREFIX + "/").split("/"))
        routes.append((segments, frozenset(method.upper() for method in item)))
    return tuple(routes)


def _matches(template: tuple[str, ...], segments: list[str]) -> bool:
    if len(template) != len(segments):
        return False
    return all(
        (part.startswith("{") and part.endswith("}") and value != "") or part.lower() == value.lower()
        for part, value in zip(template, segments, strict=True)
    )


def allowed_methods(path: str) -> list[str]:
    """The methods some function serves ``path`` (after the route prefix) with; [] for an unknown path."""
    segments = path.strip("/").split("/") if path.strip("/") else []
    methods: set[str] = set()
    for template, served in served_routes():
        if _matches(template, segments):
            methods |= served
    return [m for m in METHODS if m in methods]


def _unknown_path(path: str) -> NoSuchRoute:
    # The most common slip: the version segment left out. The hint names a route template, never the path sent.
    segments = path.strip("/").split("/")
    for template, _ in served_routes():
        if template[0] == "v1" and _matches(template[1:], segments):
            return NoSuchRoute(f"No such route; did you mean {ROUTE_PREFIX}/{'/'.join(template)}? "
                               f"The routes are listed at {ROUTE_PREFIX}/openapi.json")
    return NoSuchRoute(f"No such route; the routes are listed at {ROUTE_PREFIX}/openapi.json")


def answer(method: str, path: str) -> FacadeError:
    """The problem for a request that reached the catch-all."""
    allowed = allowed_methods(path)
    if not allowed:
        return _unknown_path(path)
    if method.upper() in allowed:
        # A served route reached the catch-all: the host tried it before the function that serves it.
        log.error("the catch-all function was reached for a served route (%s); route order is wrong", method.upper())
        return FacadeError()
    return MethodNotAllowed(allowed)


@bp.function_name(FALLBACK_FUNCTION)
@bp.route(route="{*path}", methods=METHODS, auth_level=func.AuthLevel.ANONYMOUS)
def no_such_route(req: func.HttpRequest) -> func.HttpResponse:
    return problem_response(answer(req.method, req.route_params.get("path") or ""),
                            head=req.method.upper() == "HEAD")
