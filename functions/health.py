"""``GET /api/health``: anonymous, no secrets. Says whether the facade can do its job."""

from __future__ import annotations

import threading
import time

import azure.functions as func

from .errors import FacadeError
from .facade import get_facade
from .responses import json_response
from .signalr.connection_string import parse_connection_string

bp = func.Blueprint()

UPSTREAM_CHECK_TTL = 5.0  # seconds: a burst of probes costs SignalR one call, not one each
_cache: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()


def _settings_check() -> dict:
    facade = get_facade()
    problems = list(facade.settings.auth_problems())
    try:
        parse_connection_string(facade.settings.signalr_connection_string)
    except FacadeError as e:
        problems.append(e.detail)  # names the key, never the value
    return {"status": "ok" if not problems else "error", "problems": problems}


def _upstream_check() -> dict:
    with _lock:
        cached = _cache.get("upstream")
        if cached and time.monotonic() - cached[0] < UPSTREAM_CHECK_TTL:
            return cached[1]
    try:
        status = get_facade().client.health()
        result = {"status": "ok" if status == 200 else "error", "httpStatus": status}
    except FacadeError as e:
        result = {"status": "error", "detail": e.title}
    with _lock:
        _cache["upstream"] = (time.monotonic(), result)
    return result


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    settings = _settings_check()
    upstream = _upstream_check() if settings["status"] == "ok" else {"status": "skipped"}
    healthy = settings["status"] == "ok" and upstream["status"] == "ok"
    body = {"status": "healthy" if healthy else "unhealthy", "checks": {"settings": settings, "upstream": upstream}}
    return json_response(body, 200 if healthy else 503)
