"""``POST /api/v1/batch``: many commands in one call, one result per item, in order.

The pipeline is the single request's, per item: authenticate the caller once (401 before
anything else), read the body (1 MB, JSON, at most 1,000 items: 413/415/400 for the whole
request), validate every item, authorize every valid item (the caller needs each item's own
permission, and its hub must be allowed), and only then send the items that passed, all of
them concurrently (or in order, ``{"ordered": true}``). Refused items are answered in their
slot with their 400/403 problem and never sent.

Why the valid items run although others were refused: a batch is a set of independent
commands (a fan-out), the per-item results say exactly which ones to fix and resend, and
the queue (which has no caller to answer) must work that way anyway; one format, one rule.

The answer is ``207 Multi-Status`` whenever the batch was read: each item's ``status`` is
what the single operation would have answered.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import azure.functions as func

from functions.core.batch import read_batch
from functions.core.batch_runner import ItemResult, run_batch
from functions.core.command import Command
from functions.core.errors import FacadeError, FieldError, PermissionDenied, ValidationError
from functions.core.facade import Outcome, get_facade
from functions.http.request import read_json_body
from functions.http.responses import NO_STORE, problem_body, problem_response

bp = func.Blueprint()

BATCH_ROUTE = "v1/batch"
MULTI_STATUS = 207


def result_entry(result: ItemResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": result.item.index, "status": result.status}
    correlation_id = result.item.fields.get("id") if isinstance(result.item.fields, dict) else None
    if isinstance(correlation_id, str):
        entry["id"] = correlation_id[:256]
    problem = result.problem
    if problem is not None:
        entry["problem"] = problem_body(problem)
        retry_after = problem.headers().get("Retry-After")
        if retry_after is not None:
            entry["problem"]["retryAfter"] = int(retry_after)
    return entry


def serve_batch(authorization: str | None, req: func.HttpRequest) -> list[ItemResult]:
    facade = get_facade()
    principal = facade.authenticate(authorization)
    facade.check_client_app(principal)  # a calling app that is not allowed is refused whole, not per item
    body = read_json_body(req)
    if body is None:
        raise ValidationError([FieldError("body", "is required: a JSON array of commands")])
    batch = read_batch(body, queue=False)
    items = []
    for item in batch.items:
        if item.command is not None:
            try:
                facade.authorize(principal, item.command)
            except PermissionDenied as error:
                item = item.refused(error)
        items.append(item)
    batch = replace(batch, items=tuple(items))
    # Each item that would be sent counts; a batch that does not fit the caller's budget is refused whole.
    facade.charge(principal, sum(1 for item in batch.items if item.command is not None))

    def send(command: Command) -> Outcome:
        return facade.forward(command, tenant_id=principal.tenant_id)

    return run_batch(batch, send, parallelism=facade.settings.batch_parallelism)


@bp.function_name("batch")
@bp.route(route=BATCH_ROUTE, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def batch(req: func.HttpRequest) -> func.HttpResponse:
    try:
        results = serve_batch(req.headers.get("Authorization"), req)
    except FacadeError as error:
        return problem_response(error)
    body = {
        "results": [result_entry(r) for r in results],
        # A 404 the catalog calls an answer carries its problem document, yet is the item's answer: not failed.
        "succeeded": sum(1 for r in results if r.error is None),
        "failed": sum(1 for r in results if r.error is not None),
    }
    return func.HttpResponse(json.dumps(body).encode(), status_code=MULTI_STATUS, headers=dict(NO_STORE),
                             mimetype="application/json")
