"""``GET /api/health``: anonymous, no secrets. Says whether the facade can do its job.

An anonymous caller (or one without ``SignalR.Read``) sees the statuses only: ``status`` and each
check's ``status``. Endpoint names, types and outage reasons and the settings problems describe
the deployment, so they go only to a caller whose token holds ``SignalR.Read`` (app role or
scope), and to the log: a WARNING whenever the unhealthy picture changes (not once per probe, so
a crowd of anonymous probes cannot flood the log). Every settings problem is named by the
setting, never its value. The upstream check costs the service at most one cheap call per
``UPSTREAM_CHECK_TTL`` whatever the number of callers (single-flight, no retries, short
timeouts: ``Facade.upstream_health``).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import azure.functions as func

from functions.catalog.operations import Permission
from functions.core.errors import FacadeError
from functions.core.facade import Facade, get_facade
from functions.http.responses import json_response

bp = func.Blueprint()
log = logging.getLogger(__name__)

_logged_lock = threading.Lock()


def may_read_details(facade: Facade, authorization: str | None) -> bool:
    """True for a valid token holding SignalR.Read from an allowed client app; anything else reads as anonymous
    (a probe must never fail on a token: health stays 200/503)."""
    if not authorization:
        return False
    try:
        principal = facade.authenticate(authorization)
        facade.check_client_app(principal)
    except FacadeError:
        return False
    return principal.has_permission(Permission.READ)


def log_when_changed(facade: Facade, body: dict[str, Any]) -> None:
    """The details of an unhealthy or degraded facade, logged once per change of picture (per worker)."""
    summary = json.dumps(body, sort_keys=True, default=str)
    with _logged_lock:
        if summary == facade.health_logged:
            return
        facade.health_logged = summary
    if body["status"] != "healthy" or body["checks"]["upstream"].get("status") == "degraded":
        log.warning("Health: %s", summary)  # json.dumps escapes every control character: one line


def statuses_only(body: dict[str, Any]) -> dict[str, Any]:
    return {"status": body["status"],
            "checks": {name: {"status": check["status"]} for name, check in body["checks"].items()}}


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    facade = get_facade()
    problems = facade.settings.problems()
    settings = {"status": "ok" if not problems else "error", "problems": problems}
    upstream = facade.upstream_health() if not problems else {"status": "skipped"}
    # "degraded": some SignalR endpoints are down, the others carry the traffic.
    healthy = not problems and upstream["status"] in ("ok", "degraded")
    body = {"status": "healthy" if healthy else "unhealthy", "checks": {"settings": settings, "upstream": upstream}}
    log_when_changed(facade, body)
    if problems or not may_read_details(facade, req.headers.get("Authorization")):
        body = statuses_only(body)
    return json_response(body, 200 if healthy else 503)
