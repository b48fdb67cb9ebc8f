"""The aiohttp application: REST API, client endpoint, and an inspection API for tests.

Inspection (no auth; the emulator listens on loopback only):
- ``GET /_emulator/state``: hubs, connections, group membership, user-group TTLs;
- ``GET /_emulator/requests``: the REST/client calls that arrived (method, raw path, query,
  status), oldest first; ``DELETE`` clears it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import client_endpoint, rest_api
from .client_endpoint import EMULATOR
from .emulator import Emulator, RequestRecord, Timings
from .entra_auth import EntraTrust

MAX_BODY = 1024 * 1024  # the service refuses REST bodies over 1 MB with 413

# Browsers put the client token in the query; the log must never keep it.
_SECRET_QUERY = re.compile(r"(?i)(?<![^&])(access_token|token|sig|signature)=[^&]*")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_emulator"):
        return await handler(request)
    path, _, query = request.raw_path.partition("?")
    record = RequestRecord(request.method, path, _SECRET_QUERY.sub(r"\1=***", query))
    request.app[EMULATOR].requests.append(record)
    try:
        response = await handler(request)
    except web.HTTPException as e:
        record.status = e.status
        raise
    record.status = response.status
    return response


@web.middleware
async def _cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    # The service lets browser clients negotiate from any origin (with credentials).
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS" and origin:
        return web.Response(status=204, headers=_cors_headers(request, origin, preflight=True))
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if origin:
            e.headers.update(_cors_headers(request, origin, preflight=False))
        raise
    if origin and not response.prepared:
        response.headers.update(_cors_headers(request, origin, preflight=False))
    return response


def _cors_headers(request: web.Request, origin: str, preflight: bool) -> dict[str, str]:
    headers = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
               "Vary": "Origin"}
    if preflight:
        headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, HEAD, OPTIONS"
        headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "authorization, content-type"
        )
        headers["Access-Control-Max-Age"] = "600"
    return headers


async def _state(request: web.Request) -> web.Response:
    return web.json_response(request.app[EMULATOR].snapshot())


async def _requests(request: web.Request) -> web.Response:
    return web.json_response([r.as_dict() for r in request.app[EMULATOR].requests])


async def _clear_requests(request: web.Request) -> web.Response:
    request.app[EMULATOR].requests.clear()
    return web.Response(status=204)


def create_app(access_key: str, timings: Timings | None = None, entra: EntraTrust | None = None,
               upstream_template: str | None = None, upstream_identity: tuple[str, str] | None = None
               ) -> web.Application:
    emulator = Emulator(access_key, timings, entra=entra, upstream_template=upstream_template,
                        upstream_identity=upstream_identity)
    app = web.Application(middlewares=[_cors, _log_requests], client_max_size=MAX_BODY)
    app[EMULATOR] = emulator

    async def lifecycle(_: web.Application):  # type: ignore[no-untyped-def]
        await emulator.start()
        yield
        await emulator.stop()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/_emulator/state", _state)
    app.router.add_get("/_emulator/requests", _requests)
    app.router.add_delete("/_emulator/requests", _clear_requests)
    for path in ("/client/negotiate", "/client/negotiate/"):
        app.router.add_post(path, client_endpoint.negotiate)
    for path in ("/client", "/client/"):
        app.router.add_get(path, client_endpoint.websocket, allow_head=False)
    app.router.add_route("*", "/api/{tail:.*}", rest_api.handle)
    return app
