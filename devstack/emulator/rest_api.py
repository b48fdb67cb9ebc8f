"""Routing for the data-plane REST API: ``/api/v1/...`` and the dated ``/api/...?api-version=``.

Routing is done on the raw path, split on ``/`` before percent-decoding, so a group named
``a/../b?x=1#y`` (sent as one encoded segment) stays one name, and the token's ``aud`` is
compared with the path exactly as it was sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import web

from . import auth, names
from . import rest_newer as newer
from . import rest_ops as ops
from .client_endpoint import EMULATOR
from .emulator import Emulator
from .entra_auth import is_entra_token


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: tuple[str, ...]  # literal segments, or "{name}" placeholders
    operation: ops.Operation
    success: int = 200
    authenticated: bool = True


def _r(methods: str, path: str, operation: ops.Operation, success: int = 200, auth_: bool = True) -> Route:
    return Route(frozenset(methods.split()), tuple(path.split("/")), operation, success, auth_)


HUB = "hubs/{hub}"
V1_ROUTES = (
    _r("GET HEAD", "health", ops.health, auth_=False),
    _r("POST", HUB, ops.broadcast, 202),
    _r("POST", f"{HUB}/users/{{user}}", ops.send_to_user, 202),
    _r("GET HEAD", f"{HUB}/users/{{user}}", ops.user_exists),
    _r("DELETE", f"{HUB}/users/{{user}}/groups", ops.remove_user_from_all_groups, 200),
    _r("POST", f"{HUB}/connections/{{connectionId}}", ops.send_to_connection, 202),
    _r("GET HEAD", f"{HUB}/connections/{{connectionId}}", ops.connection_exists),
    _r("DELETE", f"{HUB}/connections/{{connectionId}}", ops.close_connection, 202),
    _r("POST", f"{HUB}/groups/{{group}}", ops.send_to_group, 202),
    _r("GET HEAD", f"{HUB}/groups/{{group}}", ops.group_exists),
    _r("PUT", f"{HUB}/groups/{{group}}/connections/{{connectionId}}", ops.add_connection_to_group),
    _r("DELETE", f"{HUB}/groups/{{group}}/connections/{{connectionId}}", ops.remove_connection_from_group),
    _r("GET HEAD", f"{HUB}/groups/{{group}}/users/{{user}}", ops.user_in_group),
    _r("PUT", f"{HUB}/groups/{{group}}/users/{{user}}", ops.add_user_to_group, 202),
    _r("DELETE", f"{HUB}/groups/{{group}}/users/{{user}}", ops.remove_user_from_group, 202),
)

# Status codes from the 2022-06-01 / 2023-07-01 / 2024-12-01 swagger (azure-signalr docs/swagger).
DATED_ROUTES = (
    _r("GET HEAD", "health", ops.health, auth_=False),
    _r("POST", f"{HUB}/:send", ops.broadcast, 202),
    _r("POST", f"{HUB}/:generateToken", ops.generate_token),
    _r("POST", f"{HUB}/:closeConnections", ops.close_connections, 204),
    _r("POST", f"{HUB}/:execute", newer.execute, 202),
    _r("POST", f"{HUB}/users/{{user}}/:send", ops.send_to_user, 202),
    _r("POST", f"{HUB}/users/{{user}}/:closeConnections", ops.close_connections, 204),
    _r("GET HEAD", f"{HUB}/users/{{user}}", ops.user_exists),
    _r("DELETE", f"{HUB}/users/{{user}}/groups", ops.remove_user_from_all_groups, 204),
    _r("GET HEAD", f"{HUB}/users/{{user}}/groups/{{group}}", ops.user_in_group),
    _r("PUT", f"{HUB}/users/{{user}}/groups/{{group}}", ops.add_user_to_group),
    _r("DELETE", f"{HUB}/users/{{user}}/groups/{{group}}", ops.remove_user_from_group, 204),
    _r("POST", f"{HUB}/connections/{{connectionId}}/:send", ops.send_to_connection, 202),
    _r("GET HEAD", f"{HUB}/connections/{{connectionId}}", ops.connection_exists),
    _r("DELETE", f"{HUB}/connections/{{connectionId}}", ops.close_connection),
    _r("DELETE", f"{HUB}/connections/{{connectionId}}/groups", ops.remove_connection_from_all_groups),
    _r("POST", f"{HUB}/connections/{{connectionId}}/:invoke", newer.invoke),
    _r("PUT", f"{HUB}/connections/{{connectionId}}/groups/{{group}}", ops.add_connection_to_group),
    _r("DELETE", f"{HUB}/connections/{{connectionId}}/groups/{{group}}", ops.remove_connection_from_group),
    _r("POST", f"{HUB}/groups/{{group}}/:send", ops.send_to_group, 202),
    _r("POST", f"{HUB}/groups/{{group}}/:closeConnections", ops.close_connections, 204),
    _r("GET HEAD", f"{HUB}/groups/{{group}}", ops.group_exists),
    _r("GET", f"{HUB}/groups/{{group}}/connections", newer.list_connections_in_group),
    _r("PUT", f"{HUB}/groups/{{group}}/connections/{{connectionId}}", ops.add_connection_to_group),
    _r("DELETE", f"{HUB}/groups/{{group}}/connections/{{connectionId}}", ops.remove_connection_from_group),
)

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
    application = request.query.get("application")
    if application is not None and not names.valid_hub(application):
        raise ops.bad_request("Invalid value of 'application': it must start with a letter and hold only "
                              "letters, digits or underscores.")
    for name, value in params.items():
        valid, message = _VALIDATORS[name]
        if not valid(value):
            raise ops.bad_request(message)
    return await route.operation(ops.Call(request, emulator, params, route.success, dated))
