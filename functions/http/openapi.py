"""The OpenAPI 3.1 document, derived from the operation catalog (never written by hand).

Each parameter's schema sits beside its check in ``rules.py``, so a client generated from
the document and the facade agree on what is valid.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import azure.functions as func

from functions.batch.openapi import batch_operation, batch_schemas
from functions.catalog.operations import (
    COMMAND_PERMISSIONS,
    HUB,
    OPERATIONS,
    ROUTE_PREFIX,
    Answer,
    OperationSpec,
    Param,
    Permission,
)
from functions.core.errors import GroupTooLarge

bp = func.Blueprint()

STATUS_TEXT = {
    200: "Success", 202: "Accepted", 204: "Done", 400: "Invalid input", 401: "Missing or invalid access token",
    403: "Missing permission or hub not allowed", 404: "Not found", 413: "Body over 1 MB (or a batch over 1,000 items)",
    414: "The URL is longer than the host accepts (8 KB request line, as Kestrel)",
    415: "Body is not JSON", 422: "The group has more connections than this answer reads; page the list",
    500: "The facade is misconfigured", 502: "SignalR Service refused or failed",
    503: "SignalR Service or the signing keys are unavailable; see Retry-After", 504: "SignalR Service timed out",
}
PROBLEM = {"$ref": "#/components/responses/Problem"}


def _parameter(param: Param) -> dict[str, Any]:
    parameter = {"name": param.name, "in": param.location, "required": param.required,
                 "description": param.description, "schema": param.rule.schema}
    if param.repeated:
        parameter.update(style="form", explode=True)
    return parameter


def _responses(codes: list[int], answer: dict[str, Any] | None = None) -> dict[str, Any]:
    # 414 comes from the host before the function runs: no body, so no problem document.
    responses: dict[str, dict[str, Any]] = {
        str(code): ({"description": STATUS_TEXT[code]} if code < 300 or code == 414 else PROBLEM) for code in codes}
    if answer is not None:
        for code in codes:
            if code < 300:
                responses[str(code)] = {"description": STATUS_TEXT[code],
                                        "content": {"application/json": {"schema": answer}}}
    return responses


def _permission(spec: OperationSpec) -> dict[str, Any]:
    if spec.permission is not None:
        return {"x-required-permission": spec.permission.value}
    # :execute: the permission of every command type in the body.
    return {"x-required-permission": "per command type",
            "x-command-permissions": {kind: p.value for kind, p in COMMAND_PERMISSIONS.items()}}


def _operation(spec: OperationSpec, method: str) -> dict[str, Any]:
    # Long ids (and up to 100 excluded ones) can make a valid URL longer than the host takes: 414.
    codes = [*spec.success, 400, 401, 403, 414, 500, 502, 503, 504, *(f.status for f in spec.failures.values())]
    if spec.not_found is not None:
        codes.append(404)
    if spec.body is not None:
        codes += [413, 415]
    if spec.answer is Answer.GROUP_USERS:
        codes.append(GroupTooLarge.status)
    answer = dict(spec.answer_schema) if spec.answer_schema is not None and method != "HEAD" else None
    operation: dict[str, Any] = {
        "operationId": spec.name if method == spec.method else f"{spec.name}Head",
        "summary": spec.summary,
        "parameters": [_parameter(p) for p in spec.params],
        "responses": _responses(sorted(set(codes)), answer),
        "security": [{"entra": []}],
        **_permission(spec),
    }
    if spec.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{spec.body.schema_name}"}}}}
    return operation


def _extra_paths() -> dict[str, Any]:
    negotiate = {
        "operationId": "negotiate",
        "summary": "Get the SignalR client URL and an access token for the caller's own identity.",
        "parameters": [_parameter(HUB)],
        "security": [{"entra": []}],
        "x-required-permission": Permission.CONNECT.value,
        "responses": {"200": {"description": "Where and how to connect", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/NegotiateResponse"}}}},
            **_responses([400, 401, 403, 500, 502, 503, 504])},
    }
    health = {"operationId": "health",
              "summary": "Whether the facade can do its job (anonymous: statuses only; details with SignalR.Read).",
              "responses": {"200": {"description": "Healthy", "content": {"application/json": {}}},
                            "503": {"description": "Unhealthy", "content": {"application/json": {}}}}}
    spec = {"operationId": "openapi", "summary": "This document.",
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}}
    upstream = {
        "operationId": "upstreamEvent",
        "summary": "Receive a SignalR Service upstream event (signed by the service) and queue it for backends.",
        "parameters": [_parameter(HUB), *({"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                                          for name in ("category", "event"))],
        "security": [{"entra": []}, {}],
        "responses": {"204": {"description": "Queued"}, **_responses([400, 401, 403, 413, 415, 500])},
    }
    return {
        f"{ROUTE_PREFIX}/upstream/{{hub}}/{{category}}/{{event}}": {"post": upstream},
        f"{ROUTE_PREFIX}/v1/hubs/{{hub}}/negotiate": {"post": negotiate},
        f"{ROUTE_PREFIX}/v1/batch": {"post": batch_operation(_responses([400, 401, 413, 415, 500]))},
        f"{ROUTE_PREFIX}/health": {"get": health},
        f"{ROUTE_PREFIX}/openapi.json": {"get": spec},
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in OPERATIONS:
        item = paths.setdefault(f"{ROUTE_PREFIX}/{spec.path}", {})
        for method in spec.http_methods:
            item[method.lower()] = _operation(spec, method)
    paths.update(_extra_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "signalr-facade", "version": "1.0.0",
                 "description": "A secured facade over the Azure SignalR Service REST API (v1 and 2024-12-01). "
                                "Authenticate with a Microsoft Entra ID access token for the facade's API."},
        "paths": paths,
        "components": {
            "securitySchemes": {"entra": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                **{spec.body.schema_name: spec.body.rule.schema for spec in OPERATIONS if spec.body is not None},
                **batch_schemas(),
                "NegotiateResponse": {"type": "object", "required": ["url", "accessToken"], "properties": {
                    "url": {"type": "string"}, "accessToken": {"type": "string"}}},
                "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                               "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}},
            },
            "responses": {"Problem": {"description": "A problem (RFC 9457)", "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
        },
    }


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(openapi_document(), indent=1), mimetype="application/json",
                             headers={"Cache-Control": "public, max-age=300"})
