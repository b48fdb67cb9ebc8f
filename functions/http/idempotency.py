"""``Idempotency-Key`` over HTTP (https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/).

Any operation that changes something (POST, PUT, DELETE: the sends, the group and connection
changes, ``:execute``, ``:invoke``) and ``POST /api/v1/batch`` take the header; reads ignore it. A
keyed request is authenticated, read and authorized as any other (401, 400, 403 come first and
touch no record), then runs under its record (functions/core/idempotency/once.py), scoped to the
caller: tenant, object id and calling application. The answer is recorded as it was given
(status, body, media type) and a repeat gets it again with ``Idempotent-Replayed: true``. A failure
that may pass (throttled, unavailable, timed out, a 5xx: the one retry rule of
functions/core/errors.py) is answered as usual and releases the key instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import azure.functions as func

from functions.auth.principal import Principal
from functions.catalog.operations import OperationSpec
from functions.core.command import Command
from functions.core.errors import FacadeError
from functions.core.facade import Facade, Outcome
from functions.core.idempotency.keys import HEADER, REPLAYED_HEADER, RecordKey, check_key, fingerprint, http_scope
from functions.core.idempotency.once import Replayed, run_once
from functions.core.idempotency.records import Answer
from functions.http.request import command_from_request, query_pairs
from functions.http.responses import NO_STORE, problem_response

log = logging.getLogger(__name__)

CHANGING_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
# What the caller is given, and whether it is the command's final answer (else the key is released).
Work = Callable[[], tuple[func.HttpResponse, bool]]


def takes_key(spec: OperationSpec) -> bool:
    return any(method in CHANGING_METHODS for method in spec.http_methods)


def keyed(req: func.HttpRequest) -> bool:
    return req.headers.get(HEADER) is not None


def read_key(req: func.HttpRequest) -> str:
    return check_key(req.headers.get(HEADER) or "")


def stored(response: func.HttpResponse) -> Answer:
    return Answer(response.status_code, (response.get_body() or b"").decode("utf-8"), response.mimetype)


def replayed(answer: Answer) -> func.HttpResponse:
    return func.HttpResponse(answer.body.encode("utf-8"), status_code=answer.status,
                             headers={**NO_STORE, REPLAYED_HEADER: "true"}, mimetype=answer.content_type)


def run_keyed(facade: Facade, principal: Principal, key: str, request_fingerprint: str, work: Work,
              *, lease: float | None = None) -> func.HttpResponse:
    """``work`` under the caller's record for ``key``: run once, or the recorded answer replayed."""
    record = RecordKey(http_scope(principal.tenant_id, principal.object_id, principal.client_app_id), key,
                       request_fingerprint)

    def run() -> tuple[func.HttpResponse, Answer | None]:
        response, final = work()
        return response, stored(response) if final else None

    once = run_once(facade.idempotency, record, run, lease=lease)
    return replayed(once.answer) if isinstance(once, Replayed) else once.result


def serve_keyed_operation(facade: Facade, spec: OperationSpec, req: func.HttpRequest,
                          respond: Callable[[Outcome], func.HttpResponse]) -> func.HttpResponse:
    """One catalog operation with an ``Idempotency-Key``: the header is input, checked with the rest (400)."""
    found: list[str] = []

    def read() -> Command:
        command = command_from_request(spec, req)
        found.append(read_key(req))
        return command

    principal, command = facade.admit(req.headers.get("Authorization"), read)
    request_fingerprint = fingerprint(spec.name, dict(req.route_params), sorted(query_pairs(req)),
                                      req.get_body() or b"")

    def work() -> tuple[func.HttpResponse, bool]:
        try:
            return respond(facade.forward(command, tenant_id=principal.tenant_id)), True
        except FacadeError as error:  # answered either way; recorded only when final
            if error.status >= 500:
                log.warning("%s failed: %s %s", spec.name, error.status, error.slug)
            return problem_response(error), not error.retryable

    return run_keyed(facade, principal, found[0], request_fingerprint, work)


def batch_fingerprint(req: func.HttpRequest) -> str:
    return fingerprint("batch", req.get_body() or b"")

