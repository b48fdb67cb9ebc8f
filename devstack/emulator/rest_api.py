"""Routing for the data-plane REST API: ``/api/v1/...`` and the dated ``/api/...?api-version=``.

Routing is done on the raw path, split on ``/`` before percent-decoding, so a group named
``a/../b?x=1#y`` (sent as one encoded segment) stays one name, and the token's ``aud`` is
compared with the path exactly as it was sent.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

from aiohttp import web

from . import auth, names
from . import rest_ops as ops
from .client_endpoint import EMULATOR
from .emulator import Emulator
from .entra_auth import is_entra_token
from .rest_routes import Route, routes_for

# Derived from the stored swagger facts (rest_routes.py); the emulator's extensions are listed there.
V1_ROUTES = routes_for("v1")
DATED_ROUTES = routes_for("dated")

_VALIDATORS = {
    "hub": (names.valid_hub, names.INVALID_HUB),
    "group": (names.valid_group, names.INVALID_GROUP),
    "user": (names.valid_user, names.INVALID_USER),
    "connectionId": (names.valid_connection_id, names.INVALID_CONNECTION),
}


def _segments(raw_path: str) -> list[str]:
    path = raw_path.partition("?")[0]
    parts = path.split("/")[1:]
    if parts and parts[-1] == "":
        parts.pop()  # a trailing slash names the same resource
    return parts


def _match(routes: tuple[Route, ...], segments: list[str], method: str) -> tuple[Route, dict[str, str]]:
    method_mismatch = False
    for route in routes:
        if len(route.pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        for literal, segment in zip(route.pattern, segments, strict=True):
            if literal.startswith("{"):
                params[literal[1:-1]] = unquote(segment, errors="strict")
            elif literal.lower() != unquote(segment).lower():
                break
        else:
            if method in route.methods:
                return route, params
            method_mismatch = True
    if method_mismatch:
        raise web.HTTPMethodNotAllowed(method, [])
    raise web.HTTPNotFound()


async def _authenticate(request: web.Request, emulator: Emulator) -> None:
    """AccessKey (HS256) tokens against the key; Entra (RS256) ones against the configured trust."""
    token = auth.bearer_token(request.headers.get("Authorization"))
    audience = auth.server_audience(request.scheme, request.host, request.raw_path)
    if token and emulator.verified_tokens.get((token, audience)):
        return
    try:
        if token and is_entra_token(token):
            if emulator.entra is None:
                raise auth.TokenRejected("Microsoft Entra ID tokens are not accepted by this instance.")
            # Off the event loop: a key fetch blocks, and WebSocket clients keep being served.
            await asyncio.to_thread(emulator.entra.verify, token)
        else:
            claims = auth.verify(token, emulator.access_key, audience)
            emulator.verified_tokens.put((token, audience), True, claims["exp"])
    except auth.TokenRejected as e:
        raise web.HTTPUnauthorized(
            text=str(e), content_type="text/plain", headers={"WWW-Authenticate": "Bearer"}
        ) from e


async def handle(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    segments = _segments(request.raw_path)
    dated = segments[:2] != ["api", "v1"]
    routes, rest = (DATED_ROUTES, segments[1:]) if dated else (V1_ROUTES, segments[2:])
    try:
        route, params = _match(routes, rest, request.method)
    except UnicodeDecodeError as e:
        raise ops.bad_request("A path segment is not valid percent-encoded UTF-8.") from e
    if route.authenticated:
        await _authenticate(request, emulator)
    if dated and route.operation is not ops.health and not request.query.get("api-version"):
        raise ops.bad_request("The 'api-version' query parameter is required.")
    undefined = sorted(set(request.query) - route.query) if route.query is not None else []
    if undefined:
        # As a strict service would: what the swagger does not define for this operation is refused.
        raise ops.bad_request(f"The query parameter '{undefined[0]}' is not defined for this operation.")
    application = request.query.get("application")
    if application is not None and not names.valid_hub(application):
        raise ops.bad_request("Invalid value of 'application': it must start with a letter and hold only "
                              "letters, digits or _`,.[] (at most 128).")
    for name, value in params.items():
        valid, message = _VALIDATORS[name]
        if not valid(value):
            raise ops.bad_request(message)
    return await route.operation(ops.Call(request, emulator, params, route.success, dated))
