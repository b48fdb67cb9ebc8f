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
from functions.core.errors import GroupTooLarge, IdempotencyKeyInUse, IdempotencyKeyReused
from functions.core.idempotency.keys import HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER
from functions.http.idempotency import CHANGING_METHODS

bp = func.Blueprint()

STATUS_TEXT = {
    200: "Success", 202: "Accepted", 204: "Done", 400: "Invalid input", 401: "Missing or invalid access token",
    403: "Missing permission or hub not allowed", 404: "Not found", 413: "Body over 1 MB (or a batch over 1,000 items)",
    414: "The URL is longer than the host accepts (8 KB request line, as Kestrel)",
    415: "Body is not JSON",
    429: "Over this caller's SIGNALR_CALLER_LIMIT commands per second (a batch counts each item); see Retry-After",
    422: "The group has more connections than this answer reads; page the list",
    500: "The facade is misconfigured", 502: "SignalR Service refused or failed",
    503: "SignalR Service, the signing keys or (with an Idempotency-Key) the idempotency store are unavailable; "
         "see Retry-After", 504: "SignalR Service timed out",
}
PROBLEM = {"$ref": "#/components/responses/Problem"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}

# Idempotency-Key (functions/http/idempotency.py, docs/guides/idempotency.md) on everything that changes something.
IDEMPOTENCY_KEY = {
    "name": HEADER, "in": "header", "required": False,
    "description": "Makes the request safe to repeat: the first request with this key runs and its answer is "
                   "recorded (for SIGNALR_IDEMPOTENCY_TTL seconds, a day by default); a repeat from the same caller "
                   "gets that answer again with `Idempotent-Replayed: true` and nothing is sent. The same key with "
                   "another request is 422; a repeat while the first still runs is 409; with the idempotency store "
                   "unreachable the request is 503 and nothing is sent.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[\\x20-\\x7E]+$"},
}
REPLAYED = {REPLAYED_HEADER: {"description": "Present (`true`) when the answer is the one recorded for the "
                                             "Idempotency-Key, replayed: nothing was sent this time",
                              "schema": {"type": "string", "enum": ["true"]}}}


def keyed_responses(responses: dict[str, Any]) -> dict[str, Any]:
    """An operation's answers when it takes an Idempotency-Key: 409 and 422 of its own, and the replay header."""
    for code, response in responses.items():
        if code.startswith("2"):
            responses[code] = {**response, "headers": REPLAYED}
    responses[str(IdempotencyKeyInUse.status)] = {
        "description": "A request with this Idempotency-Key is still running: try again after Retry-After to get "
                       "its answer", "headers": RETRY_AFTER, "content": PROBLEM_CONTENT}
    responses[str(IdempotencyKeyReused.status)] = {
        "description": "This Idempotency-Key was first used for another request (operation, route, query or body)",
        "content": PROBLEM_CONTENT}
    return dict(sorted(responses.items()))


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
    codes = [*spec.success, 400, 401, 403, 414, 429, 500, 502, 503, 504, *(f.status for f in spec.failures.values())]
    if spec.not_found is not None:
        codes.append(404)
    if spec.body is not None:
        codes += [413, 415]
    if spec.answer is Answer.GROUP_USERS:
        codes.append(GroupTooLarge.status)
    answer = dict(spec.answer_schema) if spec.answer_schema is not None and method != "HEAD" else None
    takes_key = method in CHANGING_METHODS
    responses = _responses(sorted(set(codes)), answer)
    operation: dict[str, Any] = {
        "operationId": spec.name if method == spec.method else f"{spec.name}Head",
        "summary": spec.summary,
        "parameters": [_parameter(p) for p in spec.params] + ([IDEMPOTENCY_KEY] if takes_key else []),
        "responses": keyed_responses(responses) if takes_key else responses,
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
        f"{ROUTE_PREFIX}/v1/batch": {"post": batch_operation(_responses([400, 401, 413, 415, 429, 500, 503]),
                                                             IDEMPOTENCY_KEY, keyed_responses)},
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
