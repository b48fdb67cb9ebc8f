"""The emulator serves what Microsoft's swaggers define, and refuses what they do not (issue 23).

Its routes, success statuses and accepted query parameters come from the stored swagger facts
(tests/contracts/data); anything beyond them is in one list (devstack/emulator/rest_routes.py).
"""

from __future__ import annotations

import re

import pytest
from contracts.contract_data import load_swagger

from devstack.emulator import rest_api, rest_routes

from .conftest import Rest

V = "api-version=2024-12-01"


def shape(path: str) -> str:
    """A path template with its parameter names left out (the v1 swagger calls a user {id})."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def served(generation: str) -> set[tuple[str, str]]:
    routes = rest_api.V1_ROUTES if generation == "v1" else rest_api.DATED_ROUTES
    prefix = rest_routes.PREFIXES[generation]
    return {(method, shape(prefix + "/".join(r.pattern))) for r in routes for method in r.methods}


@pytest.mark.parametrize(("generation", "version"), [("v1", "v1"), ("dated", "2024-12-01")])
def test_the_routes_are_the_swaggers_operations_plus_the_listed_extensions(generation, version):
    swagger = {(op.method, shape(op.path)) for op in load_swagger(version).operations
               if op.operation_id not in rest_routes.NOT_SERVED}
    listed = {(method, rest_routes.PREFIXES[generation] + path)
              for gen, method, path, _ in rest_routes.BEYOND_THE_SWAGGER if gen == generation}
    assert served(generation) == swagger | listed


@pytest.mark.parametrize(("generation", "version"), [("v1", "v1"), ("dated", "2024-12-01")])
def test_each_route_accepts_exactly_its_operations_query_parameters_and_answers_its_success(generation, version):
    swagger = load_swagger(version)
    routes = rest_api.V1_ROUTES if generation == "v1" else rest_api.DATED_ROUTES
    for route in routes:
        if route.source.startswith("beyond"):
            continue
        operation = swagger.operation(route.source)
        assert route.query == frozenset(operation.query_parameters)
        assert str(route.success) == operation.success_codes[0]


@pytest.mark.parametrize(("method", "path", "query"), [
    ("POST", "/api/v1/hubs/chat", "application=shop"),  # v1 defines no application
    ("POST", "/api/v1/hubs/chat", "api-version=2024-12-01"),  # nor an api-version
    ("PUT", "/api/v1/hubs/chat/groups/g/users/u", "ttl=5&reason=x"),
    ("POST", "/api/hubs/chat/:execute", f"application=shop&{V}"),  # :execute takes none either
    ("POST", "/api/hubs/chat/:generateToken", f"application=shop&userId=u&{V}"),
    ("POST", "/api/hubs/chat/:send", f"excluded=a&unknown=1&{V}"),
])
def test_a_query_parameter_the_swagger_does_not_define_is_400(rest: Rest, method, path, query):
    body = [] if path.endswith(":execute") else {"target": "t", "arguments": []} if method == "POST" else None
    response = rest(method, path, query=query, body=body)
    assert response.status_code == 400
    assert "is not defined for this operation" in response.text


def test_defined_query_parameters_are_still_served(rest: Rest):
    assert rest("POST", "/api/v1/hubs/chat", query="excluded=a&excluded=b",
                body={"Target": "t", "Arguments": []}).status_code == 202
    assert rest("POST", "/api/hubs/chat/:send", query=f"application=shop&excluded=a&{V}",
                body={"target": "t", "arguments": []}).status_code == 202
    assert rest("POST", "/api/hubs/shop_chat/:execute", query=f"filter=userId%20eq%20'a'&{V}",
                body=[]).status_code == 202


def test_operations_the_swagger_does_not_define_are_404(rest: Rest):
    # The dated swagger addresses a connection's group as groups/{group}/connections/{connectionId} only.
    assert rest("PUT", "/api/hubs/chat/connections/c/groups/g", query=V).status_code == 404
