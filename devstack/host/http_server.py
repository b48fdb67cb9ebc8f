"""HTTP front end: aiohttp request -> func.HttpRequest -> function -> func.HttpResponse -> reply.

Like the Functions host (Kestrel + ASP.NET routing) where it matters here:
- routes live under host.json's routePrefix; the best match by ASP.NET precedence among the
  functions allowing the method wins; a path no function matches is 404, and so is a known
  path with a method no function allows (the host answers 404 there too; configurable);
- ``req.params`` holds one value per key, repeated keys joined with "," (StringValues), and
  ``req.url`` keeps the raw query; request headers likewise;
- an exception in a function is a 500 with an empty body (logged here, never sent);
- HEAD is routed only to functions whose methods include HEAD; its body is dropped;
- a request line over 8 KB is 414 and headers over 32 KB are 431 (Kestrel's defaults); bodies
  over ``max_body_bytes`` are 413 before the function runs.
Paths outside the routePrefix may serve static files (a demo page). CORS follows local
settings' ``Host.CORS`` / ``Host.CORSCredentials`` (devstack.host.cors).
"""

from __future__ import annotations

import logging
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import azure.functions as func
from aiohttp import web

from devstack.host.cors import CorsPolicy
from devstack.host.invoker import Invoker
from devstack.host.loader import FunctionSpec, HttpTriggerSpec

log = logging.getLogger("devstack.host")

MAX_REQUEST_LINE = 8 * 1024
HTTP_REASON = "This function was programmatically called via the host APIs."
DROPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True)
class HttpLimits:
    max_body_bytes: int = 2 * 1024 * 1024
    max_header_bytes: int = 32 * 1024
    wrong_method_status: int = 404


class Router:
    def __init__(self, route_prefix: str, functions: list[FunctionSpec]) -> None:
        self.prefix = route_prefix.strip("/")
        http = [f for f in functions if isinstance(f.trigger, HttpTriggerSpec)]
        # Stable sort: equal precedence keeps registration order (routing.py).
        self.functions = sorted(http, key=lambda f: f.trigger.route.precedence)  # type: ignore[union-attr]

    def segments(self, raw_path: str) -> list[str] | None:
        """Decoded route segments after the prefix, or None when the path is outside the prefix."""
        path = raw_path.lstrip("/")
        if self.prefix:
            head, _, rest = path.partition("/")
            if unquote(head).lower() != self.prefix.lower():
                return None
            path = rest
        if path.endswith("/"):
            path = path[:-1]
        return [unquote(s) for s in path.split("/")] if path else []

    def find(self, segments: list[str], method: str) -> tuple[FunctionSpec | None, dict[str, str], bool]:
        """(function, route values, path matched some function)."""
        path_known = False
        for spec in self.functions:
            trigger: HttpTriggerSpec = spec.trigger  # type: ignore[assignment]
            values = trigger.route.match(segments)
            if values is None:
                continue
            path_known = True
            if trigger.methods is None or method in trigger.methods:
                return spec, values, True
        return None, {}, path_known


class StaticFiles:
    def __init__(self, static_dir: Path | None, static_files: dict[str, Path] | None) -> None:
        self._dir = static_dir.resolve() if static_dir else None
        self._files = {"/" + k.lstrip("/"): Path(v) for k, v in (static_files or {}).items()}

    def lookup(self, raw_path: str) -> Path | None:
        path = unquote(raw_path)
        if path in self._files:
            return self._files[path]
        if self._dir is None:
            return None
        relative = path.lstrip("/") or "index.html"
        candidate = (self._dir / relative).resolve()
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_relative_to(self._dir) or not candidate.is_file():
            return None
        return candidate


def _printable(path: str, limit: int = 160) -> str:
    """A request path fit for one log line: no control characters (no forged lines), bounded, no query."""
    text = path.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[:limit] + "..."


def _joined(pairs: Any) -> dict[str, str]:
    merged: dict[str, list[str]] = {}
    for key, value in pairs:
        merged.setdefault(key, []).append(value)
    return {k: ",".join(v) for k, v in merged.items()}


class HttpFrontEnd:
    def __init__(
        self,
        router: Router,
        invoker: Invoker,
        static: StaticFiles,
        limits: HttpLimits,
        cors: CorsPolicy | None = None,
    ) -> None:
        self._router = router
        self._invoker = invoker
        self._static = static
        self._limits = limits
        self._cors = cors or CorsPolicy()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self._limits.max_body_bytes)
        # [\s\S] rather than ".": a decoded path may hold a line feed (%0A), which "." does not match.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self._cors.is_preflight(request.method, request.headers):
            return web.Response(status=204, headers=self._cors.preflight_headers(request.headers))
        response = await self._handle(request)
        for name, value in self._cors.response_headers(request.headers).items():
            response.headers[name] = value
        return response

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if len(request.method) + len(request.raw_path) > MAX_REQUEST_LINE:
            return web.Response(status=414)
        if sum(len(k) + len(v) + 4 for k, v in request.raw_headers) > self._limits.max_header_bytes:
            return web.Response(status=431)
        raw_path, _, query = request.raw_path.partition("?")
        segments = self._router.segments(raw_path)
        if segments is not None:
            spec, values, path_known = self._router.find(segments, request.method)
            if spec is not None:
                started = time.monotonic()
                response = await self._invoke(spec, values, request, query)
                log.info("%s %s %s -> %s (%d ms)", spec.name, request.method, _printable(raw_path), response.status,
                         (time.monotonic() - started) * 1000)
                return response
            if path_known:
                return web.Response(status=self._limits.wrong_method_status)
        static = self._static.lookup(raw_path) if segments is None or not self._router.prefix else None
        if static is not None:
            if request.method not in ("GET", "HEAD"):
                return web.Response(status=405, headers={"Allow": "GET, HEAD"})
            content_type = mimetypes.guess_type(static.name)[0] or "application/octet-stream"
            return web.FileResponse(
                static, headers={"Content-Type": content_type, "Cache-Control": "no-cache"}
            )
        return web.Response(status=404)

    async def _invoke(
        self, spec: FunctionSpec, values: dict[str, str], request: web.Request, query: str
    ) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > self._limits.max_body_bytes:
            return web.Response(status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        http_request = func.HttpRequest(
            request.method,
            f"{request.scheme}://{request.host}{request.raw_path}",
            headers=_joined((k.lower(), v) for k, v in request.headers.items()),
            params=_joined(parse_qsl(query, keep_blank_values=True)),
            route_params=values,
            body=body,
        )
        trigger: HttpTriggerSpec = spec.trigger  # type: ignore[assignment]
        try:
            result, outs = await self._invoker.invoke(spec, http_request, HTTP_REASON)
        except Exception:
            log.exception("Function '%s' raised; answering 500", spec.name)
            return web.Response(status=500)
        if trigger.output_name and trigger.output_name != "$return":
            result = outs.get(trigger.output_name)
        try:
            return _to_response(result)
        except TypeError:
            log.exception("Function '%s' returned an unsupported value; answering 500", spec.name)
            return web.Response(status=500)


def _to_response(result: Any) -> web.Response:
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str):
        return web.Response(
            status=200, body=result.encode("utf-8"), content_type="text/plain", charset="utf-8"
        )
    if isinstance(result, bytes):
        return web.Response(status=200, body=result, content_type="application/octet-stream")
    if not isinstance(result, func.HttpResponse):
        raise TypeError(f"unsupported HTTP function result {type(result)}")
    response = web.Response(status=result.status_code, body=result.get_body())
    content_type = None
    for name, value in result.headers.items():
        lowered = name.lower()
        if lowered in DROPPED_RESPONSE_HEADERS:
            continue
        if lowered == "content-type":
            content_type = value
            continue
        response.headers.add(name, value)
    if content_type is None:  # what the Python worker adds (azure.functions.http.HttpResponseConverter)
        mimetype = result.mimetype
        content_type = f"{mimetype}; charset={result.charset}" if mimetype.startswith("text/") else mimetype
    if content_type:
        response.headers["Content-Type"] = content_type
    else:
        # The host sets HttpResponse.ContentType, which ASP.NET Core clears for an empty value
        # (Azure/azure-functions-host, src/WebJobs.Script/Binding/Http/RawScriptResult.cs): no header.
        response.headers.popall("Content-Type", None)
    return response
