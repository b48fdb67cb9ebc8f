"""``GET /api/health``: anonymous, no secrets. Says whether the facade can do its job.

Every settings problem is listed by the setting's name, never its value. The upstream check
costs the service at most one cheap call per ``UPSTREAM_CHECK_TTL`` whatever the number of
anonymous callers (single-flight, no retries, short timeouts: ``Facade.upstream_health``).
"""

from __future__ import annotations

import azure.functions as func

from functions.core.facade import get_facade
from functions.http.responses import json_response

bp = func.Blueprint()


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
    return json_response(body, 200 if healthy else 503)
