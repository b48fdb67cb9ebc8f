"""Errors are data: every failure leaves as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

import json
import logging

import azure.functions as func

from functions.core.errors import ConfigurationError, FacadeError, ValidationError
from functions.core.log_text import log_safe

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
NO_STORE = {"Cache-Control": "no-store"}


def problem_body(error: FacadeError) -> dict:
    body: dict = {"type": error.type, "title": error.title, "status": error.status, "detail": error.detail}
    if isinstance(error, ConfigurationError):
        # Which setting is wrong is for the operator's log, not for callers.
        body["detail"] = "The service is misconfigured; the operator has been told why in the logs."
    if isinstance(error, ValidationError):
        body["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
    return body


def problem_response(error: FacadeError, *, head: bool = False) -> func.HttpResponse:
    if isinstance(error, ConfigurationError):
        log.error("Configuration error: %s", log_safe(error.detail))
    headers = {**NO_STORE, **error.headers()}
    body = b"" if head else json.dumps(problem_body(error)).encode()
    return func.HttpResponse(body, status_code=error.status, headers=headers, mimetype=PROBLEM_JSON)


def json_response(data: object, status: int = 200, *, head: bool = False) -> func.HttpResponse:
    body = b"" if head else json.dumps(data).encode()
    return func.HttpResponse(body, status_code=status, headers=dict(NO_STORE), mimetype="application/json")


def empty_response(status: int) -> func.HttpResponse:
    """No body, so no Content-Type. The worker sends a content-type for every response (text/plain
    unless told otherwise: azure.functions.http.HttpResponseConverter); an empty one makes the host
    drop the header (Azure/azure-functions-host, RawScriptResult.cs, sets HttpResponse.ContentType,
    which ASP.NET Core clears for an empty value)."""
    return func.HttpResponse(b"", status_code=status, headers=dict(NO_STORE), mimetype="")
