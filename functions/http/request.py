"""Turn a ``func.HttpRequest`` into a validated ``Command``: body limits, media type, query."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from functions.catalog.operations import Location, OperationSpec
from functions.core.command import Command, build_command, check_body_size, parse_json
from functions.core.errors import FieldError, UnsupportedMediaType, ValidationError

JSON_MEDIA_TYPES = ("application/json",)


def query_pairs(req: func.HttpRequest) -> list[tuple[str, str]]:
    # func.HttpRequest.params keeps one value per key; repeated ones (excluded) need the URL.
    # Strict decoding: a percent-encoded byte sequence that is not UTF-8 is refused, not replaced.
    try:
        return parse_qsl(urlsplit(req.url).query, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ValidationError([FieldError("query", "is not percent-encoded UTF-8")]) from None


def read_query(spec: OperationSpec, req: func.HttpRequest) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in query_pairs(req):
        param = spec.param(name)
        if param is None or param.location is not Location.QUERY:
            continue  # unknown query parameters are ignored, as upstream does
        if param.repeated:
            values.setdefault(name, []).append(value)
        elif name in values:
            errors.append(FieldError(name, "must be given at most once"))
        else:
            values[name] = value
    if errors:
        raise ValidationError(errors)
    return values


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in JSON_MEDIA_TYPES or (media_type.startswith("application/") and media_type.endswith("+json"))


def read_json_body(req: func.HttpRequest) -> Any:
    """The body as JSON, after the size and media-type checks; ``None`` when there is no body."""
    declared = req.headers.get("Content-Length")
    if declared and declared.isdigit():
        check_body_size(int(declared))  # refuse before reading what the caller says is too big
    raw = req.get_body() or b""
    check_body_size(len(raw))
    if not raw:
        return None
    if not _is_json(req.headers.get("Content-Type", "")):
        raise UnsupportedMediaType("Send the body as application/json")
    return parse_json(raw, "body")


def command_from_request(spec: OperationSpec, req: func.HttpRequest) -> Command:
    inputs: dict[str, Any] = {**read_query(spec, req)}
    for param in spec.params:
        if param.location is Location.PATH:
            inputs[param.name] = req.route_params.get(param.name)
    payload = read_json_body(req) if spec.has_body else None
    return build_command(spec, inputs, payload)
