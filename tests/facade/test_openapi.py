from __future__ import annotations

import json
from pathlib import Path

import azure.functions as func

from functions.catalog import OPERATIONS
from functions.openapi import openapi_document

DOCS_COPY = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_every_catalog_operation_is_documented_with_its_method_and_permission():
    paths = openapi_document()["paths"]
    for spec in OPERATIONS:
        for method in spec.http_methods:
            operation = paths[f"/api/{spec.path}"][method.lower()]
            expected = spec.permission.value if spec.permission else "per command type"
            assert operation["x-required-permission"] == expected
            assert {p["name"] for p in operation["parameters"]} == {p.name for p in spec.params}
            assert {str(code) for code in spec.success} <= set(operation["responses"])


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
        for f in registered_functions.values() if f.get_trigger().type == "httpTrigger"
        for method in f.get_trigger().methods
    }
    assert registered == documented
