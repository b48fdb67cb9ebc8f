"""Negotiate: hand a frontend the SignalR client URL and an access token for itself.

The official ``@microsoft/signalr`` client, given ``withUrl("https://<app>/api/v1/hubs/<hub>")``,
POSTs ``<url>/negotiate?negotiateVersion=1`` with its bearer token and follows the
``{url, accessToken}`` redirect to the service. Any valid token may negotiate, but only
for the caller's own identity: the user id comes from the token, never from the request.
"""

from __future__ import annotations

import logging

import azure.functions as func

from .errors import FacadeError
from .facade import check_hub_allowed, get_facade
from .responses import json_response, problem_response
from .signalr.credentials import AccessKeyCredential, audience_for
from .validation import validate_hub

log = logging.getLogger(__name__)

bp = func.Blueprint()

CLIENT_TOKEN_MINUTES = 15  # clients re-negotiate on reconnect; a short token limits a leak


@bp.function_name("negotiate")
@bp.route(route="v1/hubs/{hub}/negotiate", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def negotiate(req: func.HttpRequest) -> func.HttpResponse:
    try:
        facade = get_facade()
        principal = facade.authenticate(req.headers.get("Authorization"))
        hub = validate_hub(req.route_params.get("hub")).lower()
        check_hub_allowed(facade.settings, hub)
        client = facade.client
        url = f"{client.info.client_url}/client/?hub={hub}"
        if isinstance(client.credential, AccessKeyCredential):
            audience = audience_for(client.info.client_url) + f"/client/?hub={hub}"
            token = client.credential.sign(audience, CLIENT_TOKEN_MINUTES * 60, nameid=principal.user_id)
        else:
            token = client.generate_client_token(hub, principal.user_id, CLIENT_TOKEN_MINUTES)
    except FacadeError as error:
        return problem_response(error)
    return json_response({"url": url, "accessToken": token})
