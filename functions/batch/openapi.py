"""The batch endpoint's part of the OpenAPI document, derived from the catalog like the rest."""

from __future__ import annotations

from typing import Any

from functions.catalog.operations import OPERATIONS, OperationSpec
from functions.catalog.rules import CORRELATION_ID
from functions.core.batch import MAX_BATCH_ITEMS
from functions.core.queued import BATCH_OPERATIONS

# What the counts mean: an item's documented answer is not a failure, a 404 included where the
# catalog calls it an answer (an existence check, a connection that is gone).
SUCCEEDED = ("Items that got their operation's documented answer: 2xx, and 404 where the operation documents it as "
             "an answer (an existence check saying 'no', a connection that is already gone).")
FAILED = ("Items that did not: refused (400, 403), failed at SignalR (5xx), or left unsent (424). "
          "succeeded + failed = the number of items.")


def command_schema(spec: OperationSpec) -> dict[str, Any]:
    """One command object: the queue message's fields for ``spec``."""
    properties: dict[str, Any] = {"operation": {"const": spec.name}}
    properties.update({p.name: p.rule.schema for p in spec.params})
    required = ["operation", *(p.name for p in spec.params if p.required)]
    if spec.body is not None:
        properties[spec.body.queue_field] = {"$ref": f"#/components/schemas/{spec.body.schema_name}"}
        required.append(spec.body.queue_field)
    properties["id"] = {**CORRELATION_ID.schema, "description": "Optional correlation id, echoed in results and logs."}
    return {"title": spec.name, "type": "object", "additionalProperties": False,
            "required": required, "properties": properties}


def batch_schemas() -> dict[str, Any]:
    commands = {"type": "array", "minItems": 1, "maxItems": MAX_BATCH_ITEMS,
                "items": {"$ref": "#/components/schemas/Command"}}
    problem = {"allOf": [{"$ref": "#/components/schemas/Problem"}, {"type": "object", "properties": {
        "retryAfter": {"type": "integer", "description": "Seconds to wait before sending this item again."}}}]}
    return {
        "Command": {"description": "A command as a queue message or a batch item; existence checks only "
                                   "in an HTTP batch.",
                    "oneOf": [command_schema(spec) for spec in OPERATIONS if spec.name in BATCH_OPERATIONS]},
        "BatchRequest": {"oneOf": [commands, {"type": "object", "additionalProperties": False,
                                              "required": ["commands"], "properties": {
            "commands": commands,
            "ordered": {"type": "boolean", "default": False,
                        "description": "Send one at a time in array order; stop at the first item that may "
                                       "pass later (the rest answer 424, unsent)."}}}]},
        "BatchResponse": {"type": "object", "required": ["results", "succeeded", "failed"], "properties": {
            "results": {"type": "array", "description": "One per item, in the request's order.", "items": {
                "type": "object", "required": ["index", "status"], "properties": {
                    "index": {"type": "integer"},
                    "status": {"type": "integer", "description": "What the single operation would answer; "
                                                                 "424 for an ordered item left unsent."},
                    "id": {"type": "string"},
                    "problem": problem}}},
            "succeeded": {"type": "integer", "description": SUCCEEDED},
            "failed": {"type": "integer", "description": FAILED}}},
    }


def batch_operation(responses: dict[str, Any]) -> dict[str, Any]:
    """``POST /api/v1/batch``; ``responses``: the shared problem answers for the whole request."""
    return {
        "operationId": "batch",
        "summary": f"Run up to {MAX_BATCH_ITEMS} commands in one call (1 MB in all), concurrently or in order; "
                   "one result per item.",
        "description": "Every item is validated and authorized before any is sent; refused items answer 400/403 in "
                       "their slot and are never sent, the others run. The caller needs each item's own permission.",
        "security": [{"entra": []}],
        "x-required-permission": "each item's own",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/BatchRequest"}}}},
        "responses": {
            "207": {"description": "The batch ran: each item's outcome", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/BatchResponse"}}}},
            **responses,
        },
    }
