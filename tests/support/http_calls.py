"""Call a registered HTTP function as the worker would, with a token from the local identity provider."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

import azure.functions as func

from devstack.idp import ALL_PERMISSIONS


def url_for(path_template: str, params: dict[str, str], query: str = "") -> str:
    path = path_template.format(**{k: quote(v, safe="") for k, v in params.items()})
    return f"http://127.0.0.1:7071/api/{path}" + (f"?{query}" if query else "")


def problem(response: func.HttpResponse) -> dict:
    assert response.mimetype == "application/problem+json"
    return json.loads(response.get_body())


def function_caller(registered_functions: dict, identity_provider) -> Callable[..., func.HttpResponse]:
    def run(name, method, params, query="", *, body=None, roles=ALL_PERMISSIONS, token=None, headers=None,
            raw_body=None):
        function = registered_functions[name]
        auth = token if token is not None else identity_provider.mint(roles=roles)
        all_headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
        if data and raw_body is None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        request = func.HttpRequest(method, url_for(function.get_trigger().route, params, query),
                                   headers=all_headers, params={}, route_params=params, body=data)
        return function.get_user_function()(request)

    return run
