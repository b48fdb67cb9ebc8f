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

With an ``Idempotency-Key`` (functions/http/idempotency.py) the batch runs once under its record,
and its 207 is what a repeat gets again. The key is released, for a retry to run, only when no item
was delivered and every failure may pass; otherwise the 207 stands, and the failed items go again
in a new batch with a new key.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions.core.batch import Batch, read_batch
from functions.core.batch_runner import ItemResult, run_batch
from functions.core.command import Command
from functions.core.errors import FacadeError, FieldError, PermissionDenied, ValidationError
from functions.core.facade import Facade, Outcome, get_facade
from functions.core.idempotency.records import BATCH_LEASE_SECONDS
from functions.http.idempotency import batch_fingerprint, keyed, read_key, run_keyed
from functions.http.request import read_json_body
from functions.http.responses import NO_STORE, problem_body, problem_response

if TYPE_CHECKING:
    from functions.auth.principal import Principal

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


def serve_batch(authorization: str | None, req: func.HttpRequest) -> func.HttpResponse:
    facade = get_facade()
    principal = facade.authenticate(authorization)
    facade.check_client_app(principal)  # a calling app that is not allowed is refused whole, not per item
    key = read_key(req) if keyed(req) else None  # a malformed key is a 400, like a malformed body
    batch = read_authorized_batch(facade, principal, req)
    # Each item that would be sent counts; a batch that does not fit the caller's budget is refused whole.
    facade.charge(principal, sum(1 for item in batch.items if item.command is not None))

    def send(command: Command) -> Outcome:
        return facade.forward(command, tenant_id=principal.tenant_id)

    def run() -> list[ItemResult]:
        return run_batch(batch, send, parallelism=facade.settings.batch_parallelism)

    if key is None:
        return batch_response(run())
    # Read and authorized before the key is reserved: a refused batch (400, 403, 413) leaves no record.
    return run_keyed(facade, principal, key, batch_fingerprint(req), lambda: _settled(run()),
                     lease=BATCH_LEASE_SECONDS)


def _settled(results: list[ItemResult]) -> tuple[func.HttpResponse, bool]:
    """The 207, and whether it is final: it is, unless nothing was delivered and every failure may pass."""
    return batch_response(results), not all(r.retryable for r in results)


def read_authorized_batch(facade: Facade, principal: Principal, req: func.HttpRequest) -> Batch:
    """The body as a batch, each item validated and authorized (refused items keep their problem)."""
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
    return replace(batch, items=tuple(items))


@bp.function_name("batch")
@bp.route(route=BATCH_ROUTE, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def batch(req: func.HttpRequest) -> func.HttpResponse:
    try:
        return serve_batch(req.headers.get("Authorization"), req)
    except FacadeError as error:
        return problem_response(error)


def batch_response(results: list[ItemResult]) -> func.HttpResponse:
    body = {
        "results": [result_entry(r) for r in results],
        # A 404 the catalog calls an answer carries its problem document, yet is the item's answer: not failed.
        "succeeded": sum(1 for r in results if r.error is None),
        "failed": sum(1 for r in results if r.error is not None),
    }
    return func.HttpResponse(json.dumps(body).encode(), status_code=MULTI_STATUS, headers=dict(NO_STORE),
                             mimetype="application/json")
