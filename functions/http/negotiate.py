"""Negotiate: hand a frontend the SignalR client URL and an access token for itself.

The official ``@microsoft/signalr`` client, given ``withUrl("https://<app>/api/v1/hubs/<hub>")``,
POSTs ``<url>/negotiate?negotiateVersion=1`` with its bearer token and follows the
``{url, accessToken}`` redirect to the service. A token needs ``SignalR.Connect``, and
negotiates only for the caller's own identity: the user id comes from the token, never from
the request.
"""

from __future__ import annotations

import azure.functions as func

from functions.core.errors import FacadeError
from functions.core.facade import get_facade
from functions.http.responses import json_response, problem_response

bp = func.Blueprint()


@bp.function_name("negotiate")
@bp.route(route="v1/hubs/{hub}/negotiate", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def negotiate(req: func.HttpRequest) -> func.HttpResponse:
    try:
        answer = get_facade().negotiate(req.headers.get("Authorization"), req.route_params.get("hub"))
    except FacadeError as error:
        return problem_response(error)
    return json_response(answer)
