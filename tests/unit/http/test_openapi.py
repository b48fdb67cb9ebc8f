from __future__ import annotations

import json
from pathlib import Path

import azure.functions as func

from functions.http.fallback import FALLBACK_FUNCTION
from functions.http.openapi import openapi_document

DOCS_COPY = Path(__file__).parents[3] / "docs" / "openapi.json"


def test_the_document_is_valid_openapi_3_1():
    # An independent check of the generator: openapi-spec-validator reads the document as any
    # client generator would, against the OpenAPI 3.1 schema and its semantic rules.
    from openapi_spec_validator import validate

    validate(openapi_document())


def parameters(operation: dict) -> dict[str, tuple[str, bool]]:
    return {p["name"]: (p["in"], p["required"]) for p in operation["parameters"]}


def test_send_to_group_is_documented_as_written_by_hand():
    operation = openapi_document()["paths"]["/api/v1/hubs/{hub}/groups/{group}"]["post"]
    assert operation["operationId"] == "sendToGroup"
    assert operation["x-required-permission"] == "SignalR.Send"
    assert parameters(operation) == {"hub": ("path", True), "group": ("path", True), "excluded": ("query", False)}
    excluded = next(p for p in operation["parameters"] if p["name"] == "excluded")
    assert (excluded["style"], excluded["explode"], excluded["schema"]["maxItems"]) == ("form", True, 100)
    assert operation["requestBody"]["required"] is True
    assert {"202", "400", "401", "403", "413", "415", "502", "503", "504"} <= set(operation["responses"])
    assert "404" not in operation["responses"]  # a send to an empty group is still accepted


def test_an_existence_check_answers_get_and_head_with_404_as_an_answer():
    item = openapi_document()["paths"]["/api/v1/hubs/{hub}/groups/{group}/users/{user}"]
    assert set(item) >= {"get", "head"}
    for operation in (item["get"], item["head"]):
        assert operation["x-required-permission"] == "SignalR.Read"
        assert {"200", "404"} <= set(operation["responses"])
        assert "requestBody" not in operation
    assert item["get"]["operationId"] == "userInGroup"


def test_add_user_to_group_documents_its_ttl_bounds_and_no_body():
    operation = openapi_document()["paths"]["/api/v1/hubs/{hub}/groups/{group}/users/{user}"]["put"]
    ttl = next(p for p in operation["parameters"] if p["name"] == "ttl")
    assert ttl["schema"] == {"type": "integer", "minimum": 0, "maximum": 31536000}
    assert ttl["required"] is False
    assert "requestBody" not in operation
    assert operation["x-required-permission"] == "SignalR.Groups.Manage"


def test_negotiate_needs_the_connect_permission_and_answers_url_and_token():
    operation = openapi_document()["paths"]["/api/v1/hubs/{hub}/negotiate"]["post"]
    assert operation["x-required-permission"] == "SignalR.Connect"
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert schema == "#/components/schemas/NegotiateResponse"


def test_operation_ids_are_unique():
    ids = [op["operationId"] for item in openapi_document()["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_the_served_document_is_the_generated_one(registered_functions):
    function = registered_functions["openapi"].get_user_function()
    response = function(func.HttpRequest("GET", "http://127.0.0.1/api/openapi.json", body=b""))
    assert response.status_code == 200
    assert json.loads(response.get_body()) == openapi_document()


def test_the_checked_in_copy_is_current():
    # Regenerate with: .venv/bin/python -m devstack openapi > docs/openapi.json
    assert json.loads(DOCS_COPY.read_text()) == openapi_document()


def test_registered_routes_match_the_document(registered_functions):
    documented = {(path, method.upper()) for path, item in openapi_document()["paths"].items() for method in item}
    registered = {
        ("/api/" + f.get_trigger().route, str(method.value if hasattr(method, "value") else method).upper())
        for name, f in registered_functions.items() if f.get_trigger().type == "httpTrigger"
        and name != FALLBACK_FUNCTION  # the catch-all answers what no documented route serves
        for method in f.get_trigger().methods
    }
    assert registered == documented
