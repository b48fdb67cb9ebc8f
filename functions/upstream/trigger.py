"""The upstream receiver: SignalR POSTs client events here; each becomes one queue message.

Route ``POST /api/upstream/{hub}/{category}/{event}``, the service's URL template
``https://<app>/api/upstream/{hub}/{category}/{event}``. Anonymous at the Functions level:
``functions.upstream.receiver`` authenticates every request before anything else. The
answer is 204 only once the envelope is set on the queue output; the host writes it to the
queue before it answers, and a failed write is a 500, which the service reports to the
client as a failed invocation (nothing is acknowledged that was not enqueued).
For an ``invoke`` the service turns the 204 into an empty Completion: the client's
promise resolves with no value.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import azure.functions as func

from functions.core.errors import FacadeError
from functions.core.facade import Facade, get_facade
from functions.core.log_text import log_safe
from functions.core.settings import COMMANDS_STORAGE_CONNECTION, EVENTS_QUEUE
from functions.http.responses import empty_response, problem_response
from functions.upstream.receiver import UpstreamReceiver

log = logging.getLogger(__name__)

bp = func.Blueprint()


@lru_cache(maxsize=1)
def receiver_for(facade: Facade) -> UpstreamReceiver:
    """One receiver per worker facade (a new facade, after a settings change, gets a new one)."""
    return UpstreamReceiver(facade)


@bp.function_name("upstreamEvent")
@bp.route(route="upstream/{hub}/{category}/{event}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.queue_output(arg_name="events", queue_name=f"%{EVENTS_QUEUE}%", connection=COMMANDS_STORAGE_CONNECTION)
def upstream_event(req: func.HttpRequest, events: func.Out[str]) -> func.HttpResponse:
    try:
        receiver = receiver_for(get_facade())
        envelope = receiver.receive(req.headers, dict(req.route_params), req.get_body() or b"")
        message = receiver.queue_message(envelope)
    except FacadeError as error:
        log.warning("upstream event refused: %s %s", error.status, error.slug)
        return problem_response(error)
    events.set(message)
    log.info("upstream event queued: hub=%s category=%s event_id=%s", log_safe(envelope["hub"]),
             log_safe(envelope["category"]), log_safe(envelope["id"]))
    return empty_response(204)
