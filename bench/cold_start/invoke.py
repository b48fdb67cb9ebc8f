"""Call one registered HTTP function the way the worker does; shared by both cold-start children.

Only azure.functions is imported here, which both sides import anyway (it is the worker's
own library), so the helper adds the same small cost to each.
"""

from __future__ import annotations

import json

import azure.functions as func

BODY = json.dumps({"target": "newMessage", "arguments": ["cold", 1]}).encode()


def broadcast_request(authorization: str | None) -> func.HttpRequest:
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    return func.HttpRequest(
        "POST", "http://127.0.0.1:7071/api/v1/hubs/chat", headers=headers, params={},
        route_params={"hub": "chat"}, body=BODY,
    )


def invoke(app: func.FunctionApp, name: str, authorization: str | None) -> int:
    """Index the app (as the worker does at load), then call ``name`` once; its status code."""
    functions = {f.get_function_name(): f for f in app.get_functions()}
    response = functions[name].get_user_function()(broadcast_request(authorization))
    return response.status_code
