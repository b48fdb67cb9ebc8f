"""HTTP triggers: one function per catalog operation, generated from the catalog.

The decorators only configure; every request runs through ``handle_operation``.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions.catalog.operations import OPERATIONS, OperationSpec
from functions.core.errors import FacadeError, NotFound
from functions.core.facade import get_facade
from functions.http.request import command_from_request
from functions.http.responses import empty_response, json_response, problem_response

log = logging.getLogger(__name__)

bp = func.Blueprint()


def handle_operation(spec: OperationSpec, req: func.HttpRequest) -> func.HttpResponse:
    head = req.method.upper() == "HEAD"
    try:
        outcome = get_facade().serve(
            req.headers.get("Authorization"), lambda: command_from_request(spec, req), method="HEAD" if head else None
        )
    except FacadeError as error:
        if error.status >= 500:
            log.warning("%s failed: %s %s", spec.name, error.status, error.slug)
        return problem_response(error, head=head)
    if outcome.not_found is not None:
        return problem_response(NotFound(outcome.not_found.detail), head=head)
    if outcome.body is not None:
        return json_response(outcome.body, outcome.status, head=head)
    return empty_response(outcome.status)


def _register(spec: OperationSpec) -> None:
    def operation(req: func.HttpRequest) -> func.HttpResponse:
        return handle_operation(spec, req)

    operation.__name__ = operation.__qualname__ = spec.name
    bp.function_name(spec.name)(
        bp.route(route=spec.path, methods=list(spec.http_methods), auth_level=func.AuthLevel.ANONYMOUS)(operation)
    )


for _spec in OPERATIONS:
    _register(_spec)
