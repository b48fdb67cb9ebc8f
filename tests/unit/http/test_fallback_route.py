"""Every failure is problem+json, routes included (issue 26, item 7): the catch-all function answers an
unknown path 404 and a served path with another method 405 + Allow; an empty answer has no Content-Type."""

from __future__ import annotations

import azure.functions as func
import pytest
from azure.functions.http import HttpResponseConverter

from functions.http.fallback import FALLBACK_FUNCTION, allowed_methods, served_routes
from functions.http.responses import empty_response
from support.http_calls import problem


@pytest.fixture
def fallback(registered_functions, secured_env):
    function = registered_functions[FALLBACK_FUNCTION]

    def run(method: str, path: str) -> func.HttpResponse:
        request = func.HttpRequest(method, f"http://127.0.0.1:7071/api/{path}", headers={}, params={},
                                   route_params={"path": path}, body=b"")
        return function.get_user_function()(request)

    return run


def test_it_is_a_catch_all_for_every_method(registered_functions):
    trigger = registered_functions[FALLBACK_FUNCTION].get_trigger()
    assert trigger.route == "{*path}"
    methods = {str(getattr(m, "value", m)).upper() for m in trigger.methods}
    assert methods >= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def test_its_name_sorts_after_every_other_function(registered_functions):
    """The Azure Functions host tries routes in the order of the functions' names (functions/http/fallback.py)."""
    names = list(registered_functions)
    assert max(names) == FALLBACK_FUNCTION
    assert max(names, key=str.casefold) == FALLBACK_FUNCTION


def test_every_served_route_is_known_with_its_methods(registered_functions):
    """The catch-all's table (from the OpenAPI document) agrees with what the app registers."""
    known = {"/".join(template): methods for template, methods in served_routes()}
    registered: dict[str, set[str]] = {}
    for name, function in registered_functions.items():
        trigger = function.get_trigger()
        if trigger.type == "httpTrigger" and name != FALLBACK_FUNCTION:
            registered.setdefault(trigger.route, set()).update(
                str(getattr(m, "value", m)).upper() for m in trigger.methods)
    assert registered == known


def test_an_unknown_path_is_a_problem_404(fallback):
    response = fallback("GET", "nothing/here")
    assert response.status_code == 404
    body = problem(response)
    assert body["type"] == "urn:signalr-facade:problem:no-such-route"
    assert "/api/openapi.json" in body["detail"]


def test_a_path_without_v1_says_did_you_mean(fallback):
    body = problem(fallback("POST", "hubs/chat/groups/g1"))
    assert "did you mean /api/v1/hubs/{hub}/groups/{group}?" in body["detail"]
    assert "g1" not in body["detail"]  # the path sent is never echoed


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "v1/hubs/chat", "POST"),
    ("DELETE", "v1/hubs/chat/groups/g1", "GET, HEAD, POST"),
    ("GET", "v1/batch", "POST"),
    ("POST", "health", "GET"),
    ("PATCH", "V1/Hubs/chat/users/u1", "GET, HEAD, POST"),  # literal segments are case-insensitive
])
def test_a_served_path_with_another_method_is_405_with_allow(fallback, method, path, allow):
    response = fallback(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert problem(response)["type"] == "urn:signalr-facade:problem:method-not-allowed"


def test_head_gets_the_status_without_a_body(fallback):
    response = fallback("HEAD", "v1/batch")
    assert (response.status_code, response.get_body()) == (405, b"")


def test_allowed_methods_of_an_unknown_path_are_none():
    assert allowed_methods("v1/hubs") == []
    assert allowed_methods("") == []


def test_an_empty_answer_carries_no_content_type_to_the_host():
    """What the worker sends the host: an empty content-type, which the host drops (functions/http/responses.py)."""
    datum = HttpResponseConverter.encode(empty_response(202), expected_type=None)
    headers = {name.lower(): value.value for name, value in datum.value["headers"].items()}
    assert headers["content-type"] == ""
